"""Path metrics between traces: discrete Fréchet, Hausdorff, RMSE, MAE (TraceSpatial-Bench definitions).

- DFD: discrete Fréchet distance, an iterative dynamic programme over anti-diagonals
  (vectorised, and batched over many trace pairs at once); computed on float32 distances
  like the official scorer, so the value is bit-identical to it.
- Hausdorff: symmetric, ``max(directed(P, Q), directed(Q, P))``.
- RMSE: root mean square of the point-to-point Euclidean distance of aligned traces.
- MAE: mean over points of the mean per-coordinate absolute difference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist

DFD_OUTLIER_LIMIT = 100.0  # the official scorer drops pairs with a DFD above this from every average


def frechet_from_distances(dist: np.ndarray) -> np.ndarray:
    """Discrete Fréchet distance from pairwise distance matrices.

    Args:
        dist: ``(n, m)`` or ``(B, n, m)`` distances between the points of P (rows) and Q (columns).

    Returns:
        the distance (0-d array) or ``(B,)`` distances, in ``dist``'s dtype. NaN propagates.
    """
    d = np.asarray(dist)
    single = d.ndim == 2
    if single:
        d = d[None]
    B, n, m = d.shape
    C = np.full((B, n + 1, m + 1), np.inf, dtype=d.dtype)
    C[:, 0, 0] = -np.inf  # so that cell (0, 0) takes dist[0, 0]
    for k in range(n + m - 1):
        i = np.arange(max(0, k - m + 1), min(n - 1, k) + 1)
        j = k - i
        best = np.minimum(np.minimum(C[:, i, j + 1], C[:, i, j]), C[:, i + 1, j])
        C[:, i + 1, j + 1] = np.maximum(best, d[:, i, j])  # np.maximum/minimum propagate NaN
    out = C[:, n, m]
    return out[0] if single else out


def discrete_frechet(P: np.ndarray, Q: np.ndarray, dtype=np.float32) -> float:
    """Discrete Fréchet distance between polylines ``(n, D)`` and ``(m, D)`` (distances cast to ``dtype``)."""
    return float(frechet_from_distances(cdist(P, Q).astype(dtype)))


def hausdorff(P: np.ndarray, Q: np.ndarray) -> float:
    """Symmetric Hausdorff distance between point sets ``(n, D)`` and ``(m, D)`` (float64)."""
    d = cdist(np.asarray(P, dtype=np.float64), np.asarray(Q, dtype=np.float64))
    return hausdorff_from_distances(d)


def hausdorff_from_distances(dist: np.ndarray) -> float:
    """Symmetric Hausdorff distance from an ``(n, m)`` distance matrix."""
    return float(max(dist.min(axis=1).max(), dist.min(axis=0).max()))


def rmse_mae(P: np.ndarray, Q: np.ndarray, dtype=np.float32) -> tuple[float, float]:
    """RMSE and MAE of aligned traces ``(n, D)`` (same length), computed in ``dtype`` like the official scorer."""
    P = np.asarray(P, dtype=dtype)
    Q = np.asarray(Q, dtype=dtype)
    if P.shape != Q.shape:
        raise ValueError(f"RMSE/MAE need aligned traces of the same shape, got {P.shape} and {Q.shape}; resample first")
    dif = P - Q
    rmse = float(np.sqrt(np.mean(np.sum(dif * dif, axis=1))))
    mae = float(np.mean(np.mean(np.abs(dif), axis=1)))
    return rmse, mae


@dataclass(frozen=True)
class PathMetrics:
    """Path metrics of one predicted trace against the ground truth (units of the traces)."""

    dfd: float
    hausdorff: float
    rmse: float
    mae: float


def path_metrics(pred: np.ndarray, gt: np.ndarray) -> PathMetrics:
    """All four metrics for two aligned (already resampled) traces ``(n, D)``."""
    pred = np.asarray(pred, dtype=np.float32)
    gt = np.asarray(gt, dtype=np.float32)
    d = cdist(pred, gt)
    rmse, mae = rmse_mae(pred, gt)
    return PathMetrics(float(frechet_from_distances(d.astype(np.float32))), hausdorff_from_distances(d), rmse, mae)


def batch_path_metrics(preds: np.ndarray, gts: np.ndarray) -> list[PathMetrics]:
    """:func:`path_metrics` for ``(B, n, D)`` stacks of aligned traces, with one batched Fréchet pass."""
    preds = np.asarray(preds, dtype=np.float32)
    gts = np.asarray(gts, dtype=np.float32)
    if len(preds) == 0:
        return []
    dists = np.stack([cdist(p, g) for p, g in zip(preds, gts)])
    dfd = frechet_from_distances(dists.astype(np.float32))
    out = []
    for b in range(len(preds)):
        rmse, mae = rmse_mae(preds[b], gts[b])
        out.append(PathMetrics(float(dfd[b]), hausdorff_from_distances(dists[b]), rmse, mae))
    return out


def mean_path_metrics(items: list[PathMetrics], outlier_limit: float = DFD_OUTLIER_LIMIT) -> dict[str, float]:
    """Averages as the official scorer reports them: pairs with DFD > ``outlier_limit`` dropped, 0.0 if none left."""
    kept = [m for m in items if not (m.dfd > outlier_limit)]
    if not kept:
        return {"dfd": 0.0, "hausdorff": 0.0, "rmse": 0.0, "mae": 0.0}
    return {
        "dfd": float(np.mean([m.dfd for m in kept])),
        "hausdorff": float(np.mean([m.hausdorff for m in kept])),
        "rmse": float(np.mean([m.rmse for m in kept])),
        "mae": float(np.mean([m.mae for m in kept])),
    }
