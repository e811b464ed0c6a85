"""Trace geometry: projection, arc-length resampling, smoothing, simplification, box distance.

All functions are vectorised numpy/scipy and keep the input's float dtype where the
official TraceSpatial-Bench scorer computes in float32 (so that the benchmark can use the
same code and get the same numbers).
"""

from __future__ import annotations

import numpy as np

from robotracer.geometry.camera import Intrinsics
from robotracer.trace.types import NORMALIZED_RANGE


def normalized_to_pixels(uv: np.ndarray, width: int, height: int) -> np.ndarray:
    """``(N, 2)`` [0, 1000] image coordinates -> ``(N, 2)`` float64 pixels (column, row)."""
    return np.asarray(uv, dtype=np.float64)[:, :2] / NORMALIZED_RANGE * np.array([width, height], dtype=np.float64)


def back_project_uvd(uvd: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """``(N, 3)`` ``(u, v, d)`` with u, v in [0, 1000] -> ``(N, 3)`` float64 points in the optical frame.

    ``X = (u/1000·W − cx)·d/fx``, ``Y = (v/1000·H − cy)·d/fy``, ``Z = d`` (the official formula).
    """
    uvd = np.asarray(uvd, dtype=np.float64).reshape(-1, 3)
    pixels = normalized_to_pixels(uvd, intrinsics.width, intrinsics.height)
    return intrinsics.back_project(pixels, uvd[:, 2])


def project_to_uvd(points: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """``(N, 3)`` optical-frame points -> ``(N, 3)`` float64 ``(u, v, d)`` with u, v in [0, 1000]."""
    pixels, depth = intrinsics.project(points)
    uv = pixels / np.array([intrinsics.width, intrinsics.height], dtype=np.float64) * NORMALIZED_RANGE
    return np.column_stack([uv, depth])


def arc_length(points: np.ndarray) -> np.ndarray:
    """``(N,)`` cumulative arc length along a polyline ``(N, D)`` (first entry 0), in the input's dtype."""
    points = np.asarray(points)
    seg = np.linalg.norm(np.diff(points, axis=0), axis=1)
    return np.insert(np.cumsum(seg), 0, 0.0)


def resample_by_arc_length(points: np.ndarray, num_points: int = 100, dtype=np.float32) -> np.ndarray:
    """Resample a polyline to ``num_points`` equally spaced by arc length.

    Bit-compatible with the official scorer (``interp1d(kind="linear")`` on float32 data):
    a trace with fewer than 2 points is returned as is; a trace of zero length repeats its
    first point. Repeated points at the start give NaN there, as in the official code.

    Args:
        points: ``(N, D)`` polyline.
        num_points: number of output points (>= 2).
        dtype: computation dtype (float32 = the official scorer's).

    Returns:
        ``(num_points, D)`` array of ``dtype``.
    """
    traj = np.asarray(points, dtype=dtype)
    if traj.shape[0] < 2 or num_points <= 1:
        return traj
    cum = arc_length(traj)
    total = float(cum[-1])
    if total <= 1e-12:
        return np.repeat(traj[:1], num_points, axis=0)
    targets = np.linspace(0.0, total, num_points, dtype=dtype)
    hi = np.clip(np.searchsorted(cum, targets), 1, len(cum) - 1)
    lo = hi - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (traj[hi] - traj[lo]) / (cum[hi] - cum[lo])[:, None]
    return slope * (targets - cum[lo])[:, None] + traj[lo]


def catmull_rom(points: np.ndarray, samples_per_segment: int = 8, alpha: float = 0.5) -> np.ndarray:
    """Catmull-Rom spline through every point (centripetal for ``alpha=0.5``).

    Args:
        points: ``(N, D)`` control points; the spline passes through each of them.
        samples_per_segment: output points per segment (the segment's start included).
        alpha: 0 uniform, 0.5 centripetal (no cusps or self-intersections), 1 chordal.

    Returns:
        ``((N-1)·samples_per_segment + 1, D)`` float64 points, first and last equal to the input's.
    """
    P = np.asarray(points, dtype=np.float64)
    if len(P) < 3:
        return P.copy()
    # Repeated points would give zero knot intervals: drop consecutive duplicates.
    keep = np.concatenate([[True], np.linalg.norm(np.diff(P, axis=0), axis=1) > 1e-12])
    P = P[keep]
    if len(P) < 3:
        return P.copy()
    ext = np.vstack([2 * P[0] - P[1], P, 2 * P[-1] - P[-2]])
    p0, p1, p2, p3 = ext[:-3], ext[1:-2], ext[2:-1], ext[3:]

    def knot(a, b):
        return np.maximum(np.linalg.norm(b - a, axis=1) ** alpha, 1e-12)

    t0 = np.zeros(len(p1))
    t1 = t0 + knot(p0, p1)
    t2 = t1 + knot(p1, p2)
    t3 = t2 + knot(p2, p3)
    s = np.linspace(0.0, 1.0, samples_per_segment, endpoint=False)
    t = t1[:, None] + s[None, :] * (t2 - t1)[:, None]  # (S, K)
    t0, t1, t2, t3 = (x[:, None, None] for x in (t0, t1, t2, t3))
    t = t[:, :, None]
    p0, p1, p2, p3 = (x[:, None, :] for x in (p0, p1, p2, p3))
    a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
    a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
    a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
    b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
    b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
    c = (t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2
    return np.vstack([c.reshape(-1, P.shape[1]), P[-1:]])


def point_segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(N,)`` distance of ``(N, D)`` points to the segment ``a``-``b``."""
    points = np.asarray(points, dtype=np.float64)
    ab = np.asarray(b, dtype=np.float64) - a
    denom = float(ab @ ab)
    if denom == 0.0:
        return np.linalg.norm(points - a, axis=1)
    t = np.clip((points - a) @ ab / denom, 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=1)


def rdp_simplify(points: np.ndarray, epsilon: float) -> np.ndarray:
    """Ramer–Douglas–Peucker: indices ``(K,)`` int of the points kept (first and last always).

    Iterative (explicit stack), vectorised per segment. ``points[rdp_simplify(points, eps)]``
    is the simplified polyline; every dropped point lies within ``epsilon`` of it.
    """
    P = np.asarray(points, dtype=np.float64)
    n = len(P)
    if n <= 2:
        return np.arange(n)
    keep = np.zeros(n, dtype=bool)
    keep[[0, n - 1]] = True
    stack = [(0, n - 1)]
    while stack:
        i, j = stack.pop()
        if j - i < 2:
            continue
        d = point_segment_distance(P[i + 1 : j], P[i], P[j])
        k = int(np.argmax(d))
        if d[k] > epsilon:
            m = i + 1 + k
            keep[m] = True
            stack.append((i, m))
            stack.append((m, j))
    return np.flatnonzero(keep)


def oriented_box_distance(points: np.ndarray, center, extent, rotation) -> np.ndarray:
    """``(N,)`` float64 Euclidean distance from ``(N, 3)`` points to an oriented box (0 inside).

    Args:
        center: ``(3,)`` box centre.
        extent: ``(3,)`` full side lengths along the box axes.
        rotation: ``(3, 3)`` box axes as columns (box frame -> points' frame).
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    R = np.asarray(rotation, dtype=np.float64).reshape(3, 3)
    local = (points - np.asarray(center, dtype=np.float64)) @ np.linalg.inv(R).T
    excess = np.maximum(np.abs(local) - 0.5 * np.asarray(extent, dtype=np.float64), 0.0)
    return np.linalg.norm(excess @ R.T, axis=1)


def box_corners(center, extent, rotation) -> np.ndarray:
    """``(8, 3)`` float64 corners of an oriented box (same arguments as :func:`oriented_box_distance`)."""
    half = 0.5 * np.asarray(extent, dtype=np.float64)
    signs = np.array([[sx, sy, sz] for sz in (-1, 1) for sy in (-1, 1) for sx in (-1, 1)], dtype=np.float64)
    return (signs * half) @ np.asarray(rotation, dtype=np.float64).reshape(3, 3).T + np.asarray(center, dtype=np.float64)
