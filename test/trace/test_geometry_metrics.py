"""Trace geometry and path metrics against hand-computed cases and slow textbook versions."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from scipy.spatial.distance import directed_hausdorff

from robotracer.geometry.camera import Intrinsics
from robotracer.trace.geometry import (
    arc_length,
    back_project_uvd,
    box_corners,
    catmull_rom,
    oriented_box_distance,
    project_to_uvd,
    rdp_simplify,
    resample_by_arc_length,
)
from robotracer.trace.metrics import (
    PathMetrics,
    batch_path_metrics,
    discrete_frechet,
    frechet_from_distances,
    hausdorff,
    mean_path_metrics,
    path_metrics,
    rmse_mae,
)


def test_back_projection_is_the_official_formula_and_projection_inverts_it():
    K = Intrinsics(fx=500.0, fy=400.0, cx=320.0, cy=240.0, width=640, height=480)
    uvd = np.array([[500.0, 500.0, 2.0], [0.0, 1000.0, 1.0]])
    xyz = back_project_uvd(uvd, K)
    # u=500 -> 320 px = cx -> X=0; v=500 -> 240 px = cy -> Y=0
    np.testing.assert_allclose(xyz[0], [0.0, 0.0, 2.0])
    np.testing.assert_allclose(xyz[1], [(0 - 320) * 1.0 / 500, (480 - 240) * 1.0 / 400, 1.0])
    np.testing.assert_allclose(project_to_uvd(xyz, K), uvd, atol=1e-9)


def test_resampling_by_arc_length_hand_case():
    # an L: 3 along x then 1 along y, total 4 -> 5 points every 1.0
    out = resample_by_arc_length(np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 1.0]]), 5, dtype=np.float64)
    np.testing.assert_allclose(out, [[0, 0], [1, 0], [2, 0], [3, 0], [3, 1]], atol=1e-12)
    assert resample_by_arc_length(np.zeros((4, 3)), 10).shape == (10, 3)  # zero length repeats the point
    single = np.array([[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(resample_by_arc_length(single, 100), single)  # < 2 points returned as is
    assert resample_by_arc_length(np.random.default_rng(0).random((7, 3)), 100).dtype == np.float32


def test_resampling_matches_scipy_interp1d_bitwise():
    from scipy.interpolate import interp1d

    rng = np.random.default_rng(1)
    for _ in range(20):
        traj = rng.random((rng.integers(2, 15), 3)).astype(np.float32)
        cum = np.insert(np.cumsum(np.linalg.norm(np.diff(traj, axis=0), axis=1)), 0, 0.0)
        targets = np.linspace(0.0, float(cum[-1]), 100, dtype=np.float32)
        ref = np.stack([interp1d(cum, traj[:, d], kind="linear")(targets) for d in range(3)], axis=1)
        np.testing.assert_array_equal(resample_by_arc_length(traj, 100), ref)


def test_arc_length():
    np.testing.assert_allclose(arc_length(np.array([[0.0, 0], [3, 4], [3, 5]])), [0, 5, 6])


def test_catmull_rom_passes_through_points_and_is_smooth():
    P = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    C = catmull_rom(P, samples_per_segment=10)
    assert C.shape == (31, 2)
    np.testing.assert_allclose(C[::10], P, atol=1e-12)
    line = catmull_rom(np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]), 4)
    np.testing.assert_allclose(line[:, 1], 0.0, atol=1e-12)  # collinear points stay on the line
    assert np.all(np.diff(line[:, 0]) > 0)


def test_rdp_simplify_hand_case():
    P = np.array([[0.0, 0.0], [1.0, 0.1], [2.0, -0.1], [3.0, 5.0], [4.0, 6.0], [5.0, 7.0]])
    np.testing.assert_array_equal(rdp_simplify(P, 0.5), [0, 2, 3, 5])
    np.testing.assert_array_equal(rdp_simplify(P, 100.0), [0, 5])
    np.testing.assert_array_equal(rdp_simplify(P, 1e-9), [0, 1, 2, 3, 5])  # 3, 4, 5 collinear: 4 dropped
    long = np.column_stack([np.linspace(0, 1, 5000), np.sin(np.linspace(0, 1, 5000))])
    keep = rdp_simplify(long, 1e-3)
    assert keep[0] == 0 and keep[-1] == 4999 and len(keep) < 50


def test_oriented_box_distance_hand_case():
    R = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # box x axis along world y
    c, e = np.array([1.0, 2.0, 3.0]), np.array([2.0, 4.0, 6.0])  # half (1, 2, 3) in the box frame
    pts = np.array([[1.0, 2.0, 3.0], [1.0, 3.5, 3.0], [1.0, 4.0, 3.0], [4.0, 2.0, 3.0], [1.0 + 2 + 3, 2.0 + 1 + 4, 3.0]])
    np.testing.assert_allclose(oriented_box_distance(pts, c, e, R), [0.0, 0.5, 1.0, 1.0, 5.0])
    corners = box_corners(c, e, R)
    np.testing.assert_allclose(oriented_box_distance(corners, c, e, R), 0.0, atol=1e-12)


def _frechet_textbook(P, Q):
    d = np.linalg.norm(P[:, None] - Q[None], axis=2)

    @functools.lru_cache(maxsize=None)
    def c(i, j):
        if i == 0 and j == 0:
            return d[0, 0]
        if i == 0:
            return max(c(0, j - 1), d[0, j])
        if j == 0:
            return max(c(i - 1, 0), d[i, 0])
        return max(min(c(i - 1, j), c(i - 1, j - 1), c(i, j - 1)), d[i, j])

    return c(len(P) - 1, len(Q) - 1)


def test_discrete_frechet_hand_cases():
    P = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    Q = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 1.0]])
    assert discrete_frechet(P, Q) == pytest.approx(1.0)
    # a detour: Q goes to (1, 3) in the middle -> the walk must pass (1,3) -> distance 3
    assert discrete_frechet(P, np.array([[0.0, 0.0], [1.0, 3.0], [2.0, 0.0]])) == pytest.approx(3.0)
    # reversed direction is penalised (Hausdorff is not)
    assert discrete_frechet(P, P[::-1]) == pytest.approx(2.0)
    assert hausdorff(P, P[::-1]) == 0.0


def test_discrete_frechet_matches_the_recursive_definition_and_batches():
    rng = np.random.default_rng(2)
    pairs = [(rng.random((rng.integers(1, 12), 3)), rng.random((rng.integers(1, 12), 3))) for _ in range(30)]
    for P, Q in pairs:
        assert discrete_frechet(P, Q, dtype=np.float64) == pytest.approx(_frechet_textbook(P, Q), abs=0)
    D = np.stack([np.linalg.norm(rng.random((9, 1, 2)) - rng.random((1, 7, 2)), axis=2) for _ in range(5)])
    batch = frechet_from_distances(D)
    assert batch.shape == (5,)
    for b in range(5):
        assert batch[b] == frechet_from_distances(D[b])


def test_frechet_of_100_point_traces_is_fast():
    import time

    D = np.random.default_rng(3).random((100, 100, 100)).astype(np.float32)
    t0 = time.perf_counter()
    frechet_from_distances(D)
    assert time.perf_counter() - t0 < 0.5  # the official recursive version needs ~37 ms per pair


def test_hausdorff_matches_scipy():
    rng = np.random.default_rng(4)
    P, Q = rng.random((30, 3)), rng.random((20, 3))
    assert hausdorff(P, Q) == max(directed_hausdorff(P, Q)[0], directed_hausdorff(Q, P)[0])


def test_rmse_mae_hand_case():
    P = np.array([[0.0, 0.0], [0.0, 0.0]])
    Q = np.array([[3.0, 4.0], [0.0, 1.0]])
    rmse, mae = rmse_mae(P, Q)
    assert rmse == pytest.approx(np.sqrt((25 + 1) / 2))
    assert mae == pytest.approx(((3 + 4) / 2 + (0 + 1) / 2) / 2)
    with pytest.raises(ValueError, match="resample first"):
        rmse_mae(P, Q[:1])


def test_path_metrics_batch_and_outlier_rule():
    rng = np.random.default_rng(5)
    preds, gts = rng.random((4, 100, 3)), rng.random((4, 100, 3))
    assert batch_path_metrics(preds, gts) == [path_metrics(p, g) for p, g in zip(preds, gts)]
    items = [PathMetrics(1.0, 2.0, 3.0, 4.0), PathMetrics(200.0, 0.0, 0.0, 0.0), PathMetrics(3.0, 2.0, 1.0, 0.0)]
    assert mean_path_metrics(items) == {"dfd": 2.0, "hausdorff": 2.0, "rmse": 2.0, "mae": 2.0}
    assert mean_path_metrics([]) == {"dfd": 0.0, "hausdorff": 0.0, "rmse": 0.0, "mae": 0.0}
