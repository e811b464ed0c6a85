"""Lifting: project ∘ back-project round trip, observed depth at the endpoints, frames."""

import numpy as np
import pytest

from robotracer.geometry.camera import Intrinsics
from robotracer.geometry.transforms import RigidTransform
from robotracer.trace.lifting import LiftError, back_project_trace, lift_trace
from robotracer.trace.types import Trace

K = Intrinsics(fx=580.0, fy=585.0, cx=320.5, cy=240.5, width=640, height=480)


def test_back_project_matches_the_official_formula_and_round_trips():
    rng = np.random.default_rng(0)
    uvd = np.column_stack([rng.uniform(0, 1000, 20), rng.uniform(0, 1000, 20), rng.uniform(0.3, 3.0, 20)])
    pts = back_project_trace(Trace(uvd), K)
    u_px, v_px = uvd[:, 0] / 1000 * 640, uvd[:, 1] / 1000 * 480
    np.testing.assert_allclose(pts[:, 0], (u_px - K.cx) * uvd[:, 2] / K.fx)
    np.testing.assert_allclose(pts[:, 1], (v_px - K.cy) * uvd[:, 2] / K.fy)
    pix, z = K.project(pts)
    np.testing.assert_allclose(pix, np.column_stack([u_px, v_px]), atol=1e-9)
    np.testing.assert_allclose(z, uvd[:, 2])


def test_lift_applies_the_extrinsics():
    T = RigidTransform.from_xyz_rpy([1.3, 0.0, 0.55], [-2.1451, 0.0, 1.5708])
    trace = Trace(np.array([[500.0, 500.0, 1.0], [600.0, 400.0, 1.2]]))
    lifted = lift_trace(trace, K, T, "base_link")
    np.testing.assert_allclose(lifted.positions, T.apply(back_project_trace(trace, K)))
    assert lifted.frame_id == "base_link"


def test_observed_depth_replaces_close_endpoints_only():
    depth = np.full((480, 640), 1.00, dtype=np.float32)
    trace = Trace(np.array([[500.0, 500.0, 0.99], [550.0, 450.0, 0.8], [600.0, 500.0, 0.85]]))
    lifted = lift_trace(trace, K, RigidTransform.identity(), "cam", depth)
    assert lifted.positions[0, 2] == pytest.approx(1.00)  # 1 cm off: observed wins
    assert lifted.positions[1, 2] == pytest.approx(0.8)  # mid-air: model depth
    assert lifted.positions[2, 2] == pytest.approx(0.85)  # 15 cm off: sees what lies behind, kept
    always = lift_trace(trace, K, RigidTransform.identity(), "cam", depth, endpoint_tolerance=None)
    assert always.positions[2, 2] == pytest.approx(1.00)


def test_hollow_object_start_keeps_the_trace_depth():
    """A ray into an open cup sees its inside 2-3 cm deeper than the rim-level top centre."""
    depth = np.full((480, 640), 1.03, dtype=np.float32)
    trace = Trace(np.array([[500.0, 500.0, 1.0], [600.0, 500.0, 1.0]]))
    lifted = lift_trace(trace, K, RigidTransform.identity(), "cam", depth)
    assert lifted.positions[0, 2] == pytest.approx(1.0)


def test_holes_in_depth_at_an_endpoint_are_refused():
    depth = np.full((480, 640), 1.0, dtype=np.float32)
    depth[230:250, 310:330] = 0.0  # hole around pixel (320, 240)
    trace = Trace(np.array([[500.0, 500.0, 1.0], [700.0, 500.0, 1.0]]))
    with pytest.raises(LiftError, match="hole in the depth"):
        lift_trace(trace, K, RigidTransform.identity(), "cam", depth)
    depth[:] = np.nan
    with pytest.raises(LiftError, match="no valid depth"):
        lift_trace(trace, K, RigidTransform.identity(), "cam", depth)


def test_two_d_trace_and_size_mismatch_are_refused():
    with pytest.raises(LiftError, match="2D trace"):
        lift_trace(Trace(np.array([[1.0, 2.0], [3.0, 4.0]])), K, RigidTransform.identity(), "cam")
    with pytest.raises(LiftError, match="camera info says 640x480"):
        lift_trace(Trace(np.array([[1.0, 2.0, 1.0]])), K, RigidTransform.identity(), "cam", np.ones((10, 10)))


def test_rigid_transform_accepts_rotations_and_refuses_reflections_and_shears():
    R = RigidTransform.from_xyz_rpy([0.1, 0.2, 0.3], [0.3, -0.2, 1.1]).rotation
    assert RigidTransform(R, np.zeros(3)).rotation.shape == (3, 3)
    for bad in (np.diag([1.0, 1.0, -1.0]), R @ np.diag([-1.0, 1.0, 1.0]), np.array([[1, 0.1, 0], [0, 1, 0], [0, 0, 1.0]])):
        with pytest.raises(ValueError, match="proper orthonormal"):
            RigidTransform(bad, np.zeros(3))
