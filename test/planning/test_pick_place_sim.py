"""End to end in the MuJoCo tabletop: an object-centric trace moves the cup with a real friction grasp."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robotracer.sim.tabletop import TabletopSim  # first: selects headless rendering before mujoco loads
from robotracer.planning.pick_place import PlanningError, plan_pick_and_place
from robotracer.robots.ur5e.kinematics import UR5eKinematics
from robotracer.sim.objects import object_kind
from robotracer.trace.types import Trace3D

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kinematics():
    return UR5eKinematics()


@pytest.fixture(scope="module")
def sim():
    s = TabletopSim()
    yield s
    s.close()


def lift_carry_lower(start: np.ndarray, end: np.ndarray, lift: float = 0.12) -> Trace3D:
    """8 points: up in two steps, carry in three, down in two (the tracer's object-centric shape)."""
    up = np.array([0.0, 0.0, lift])
    pts = [start, start + up / 2, start + up]
    pts += [(1 - a) * (start + up) + a * (end + up) for a in (0.25, 0.5, 0.75)]
    pts += [end + up, end + up / 2, end]
    return Trace3D(np.array(pts), "base_link")


def left_of_plate_destination(sim: TabletopSim) -> np.ndarray:
    """A free spot 15-21 cm left of the plate (base -y, image-left) at the cup's top height."""
    poses = sim.object_poses()
    plate = poses["plate"][0]
    cup_r = object_kind("cup").radius
    candidates = [(gap, dx) for dx in (0.0, -0.05, 0.05) for gap in (0.16, 0.19, 0.14)]
    for gap, dx in candidates:
        xy = plate[:2] + np.array([dx, -gap])
        if not 0.35 <= np.hypot(*xy) <= 0.75:
            continue
        clear = all(
            np.linalg.norm(poses[n][0][:2] - xy) >= cup_r + object_kind(sim.object_kinds[n]).radius + 0.03
            for n in sim.object_names
            if n not in ("cup", "plate")
        )
        if clear:
            return np.array([xy[0], xy[1], object_kind("cup").height])
    pytest.skip("no free spot left of the plate in this layout")


def execute(sim: TabletopSim, plan, control_dt: float = 0.01, settle: float = 1.0) -> None:
    """Stream the plan into the position actuators at 100 Hz while stepping physics."""
    steps = int(round(control_dt / sim.timestep))
    t = 0.0
    while t <= plan.duration + settle:
        q, g, _, _ = plan.sample(t)
        sim.set_arm_targets(q)
        sim.set_gripper(g)
        sim.step(steps)
        t += control_dt


@pytest.mark.parametrize("seed", [None, 0, 1, 2, 3, 4, 5])
def test_cup_to_the_left_of_the_plate(sim, kinematics, seed):
    sim.reset(seed)
    before = sim.object_poses()
    start = sim.object_top_center("cup")
    end = left_of_plate_destination(sim)
    plan = plan_pick_and_place(lift_carry_lower(start, end), sim.arm_positions(), kinematics, q_home=sim.arm_positions())
    execute(sim, plan)
    after = sim.object_poses()

    cup, plate = after["cup"][0], after["plate"][0]
    assert np.linalg.norm(cup[:2] - before["cup"][0][:2]) > 0.10, "the cup did not move"
    assert sim.is_upright("cup", tol_deg=10.0)
    assert abs(cup[2]) < 0.01, f"cup is not standing on the table (z = {cup[2]:.3f} m)"
    # left of the plate as seen from the camera: project both into the image
    K, T_cam_base = sim.intrinsics, sim.T_base_camera.inverse()
    (u_cup, _), (u_plate, _) = K.project(T_cam_base.apply(np.stack([cup, plate])))[0]
    assert u_cup < u_plate, "cup is not left of the plate in the image"
    assert 0.05 <= np.linalg.norm(cup[:2] - plate[:2]) <= 0.25
    assert np.linalg.norm(cup[:2] - end[:2]) < 0.03, "cup landed far from the trace end"
    for name in sim.object_names:
        if name != "cup":
            moved = np.linalg.norm(after[name][0] - before[name][0])
            assert moved < 0.02, f"{name} moved {moved:.3f} m"
    assert sim.warnings() == {}


def test_unreachable_trace_raises_before_anything_moves(sim, kinematics):
    sim.reset(None)
    q0 = sim.arm_positions()
    before = sim.object_poses()
    start = sim.object_top_center("cup")
    far = np.array([1.25, 0.3, start[2]])
    with pytest.raises(PlanningError) as err:
        plan_pick_and_place(lift_carry_lower(start, far), q0, kinematics)
    assert "unreachable" in err.value.reason and "beyond" in err.value.reason
    assert err.value.waypoint_index is not None and err.value.waypoint_index > 0
    np.testing.assert_allclose(sim.arm_positions(), q0)
    for name, (p, _) in sim.object_poses().items():
        np.testing.assert_allclose(p, before[name][0])
