"""Planner unit tests: geometry of the grasp offset, errors, timing limits, sampling."""

from __future__ import annotations

import numpy as np
import pytest

from robotracer.planning.pick_place import (
    PHASES,
    InvalidTraceError,
    PickPlaceParams,
    UnreachableWaypointError,
    WaypointTooLowError,
    check_reachability,
    plan_pick_and_place,
)
from robotracer.robots.ur5e.kinematics import UR5eKinematics
from robotracer.sim.ur5e_model import HOME_Q
from robotracer.trace.types import Trace3D


@pytest.fixture(scope="module")
def kin():
    return UR5eKinematics()


def trace(start, end, lift=0.12, frame="base_link"):
    start, end = np.asarray(start, float), np.asarray(end, float)
    up = np.array([0, 0, lift])
    pts = [start, start + up / 2, start + up, 0.5 * (start + end) + up, end + up, end + up / 2, end]
    return Trace3D(np.array(pts), frame)


def test_plan_follows_the_trace_offset_by_the_grasp_depth(kin):
    tr = trace([0.47, 0.24, 0.09], [0.50, -0.15, 0.09])
    plan = plan_pick_and_place(tr, np.array(HOME_Q), kin)
    assert [s.phase for s in plan.segments] == list(PHASES)
    np.testing.assert_allclose(plan.tcp_targets, tr.positions - [0, 0, 0.03])
    for i, q in enumerate(plan.waypoint_positions):
        np.testing.assert_allclose(kin.fk(q).translation, plan.tcp_targets[i], atol=1e-3)
        assert kin.fk(q).rotation[2, 2] < -0.999  # top-down
    # gripper: open while approaching, closed while carrying, open at the end
    for t in np.linspace(0, plan.duration, 300):
        q, g, phase, wp = plan.sample(t)
        if phase in ("approach", "retreat", "home"):
            assert g == pytest.approx(0.0)
        if phase in ("lift", "carry", "place"):
            assert g == pytest.approx(1.0)
    assert plan.sample(plan.duration)[3] == len(tr) - 1
    np.testing.assert_allclose(plan.sample(plan.duration)[0], HOME_Q, atol=1e-9)
    assert np.all(np.diff(plan.waypoint_index) >= 0)


def test_plan_respects_joint_velocity_limits(kin):
    params = PickPlaceParams(velocity_scale=0.5)
    plan = plan_pick_and_place(trace([0.4, 0.3, 0.09], [0.6, -0.2, 0.09]), np.array(HOME_Q), kin, params)
    v = np.abs(np.diff(plan.positions, axis=0)) / np.diff(plan.times)[:, None]
    assert np.all(v <= kin.velocity_limits * params.velocity_scale * 1.05)
    assert np.all(np.diff(plan.times) > 0)


def test_short_objects_are_grasped_above_the_table_margin(kin):
    params = PickPlaceParams(grasp_depth=0.03, table_margin=0.012)
    plan = plan_pick_and_place(trace([0.45, 0.0, 0.02], [0.45, -0.2, 0.02]), np.array(HOME_Q), kin, params)
    assert plan.tcp_targets[0, 2] == pytest.approx(0.012)


def test_errors_name_the_problem(kin):
    q0 = np.array(HOME_Q)
    with pytest.raises(InvalidTraceError, match="base_link"):
        plan_pick_and_place(trace([0.45, 0, 0.09], [0.45, -0.2, 0.09], frame="camera_color_optical_frame"), q0, kin)
    dip = trace([0.45, 0, 0.09], [0.45, -0.2, 0.09])
    pts = dip.positions.copy()
    pts[3, 2] = 0.02  # carried cup 7 cm into the table
    with pytest.raises(WaypointTooLowError) as err:
        check_reachability(Trace3D(pts, "base_link"), q0, kin)
    assert err.value.waypoint_index == 3 and "into the table" in err.value.reason
    with pytest.raises(UnreachableWaypointError) as err:
        check_reachability(trace([0.45, 0, 0.09], [1.3, 0.0, 0.09]), q0, kin)
    assert "beyond the UR5e's reach" in err.value.reason


def test_check_reachability_is_fast_and_matches_the_plan(kin):
    import time

    tr = trace([0.47, 0.24, 0.09], [0.50, -0.15, 0.09])
    t = time.perf_counter()
    qs = check_reachability(tr, np.array(HOME_Q), kin)
    assert time.perf_counter() - t < 1.0
    np.testing.assert_allclose(qs, plan_pick_and_place(tr, np.array(HOME_Q), kin).waypoint_positions)


def _distance_to_polyline(p: np.ndarray, vertices: np.ndarray) -> float:
    best = np.inf
    for a, b in zip(vertices[:-1], vertices[1:]):
        ab = b - a
        t = np.clip(np.dot(p - a, ab) / max(float(np.dot(ab, ab)), 1e-12), 0.0, 1.0)
        best = min(best, float(np.linalg.norm(a + t * ab - p)))
    return best


def test_the_graph_configs_ik_step_keeps_the_carried_tcp_within_half_a_millimetre_of_the_trace(kin):
    """config/ur5.yaml samples IK sparsely along straight lines; the joint-space interpolation between
    samples must still follow the trace's segments."""
    from robotracer.graph import load_graph

    params = PickPlaceParams(**load_graph("ur5").node("ur5_controller").parameters.get("planning", {}))
    tr = trace([0.47, 0.24, 0.09], [0.50, -0.15, 0.09], lift=0.15)
    plan = plan_pick_and_place(tr, np.array(HOME_Q), kin, params)
    carried = [i for i, phase in enumerate(plan.phases) if phase in ("lift", "carry", "place")]
    tcp = kin.tcp_positions(plan.positions[carried])
    worst = max(_distance_to_polyline(p, plan.tcp_targets) for p in tcp)
    assert worst < 5e-4, f"the TCP leaves the trace by {worst * 1e3:.2f} mm between IK samples"
