"""A plan streamed through the robot contract (MuJoCo driver) moves the cup; cancelling stops the arm."""

from __future__ import annotations

import numpy as np
import pytest

from robotracer.sim.tabletop import TabletopSim  # first: selects headless rendering
from robotracer.planning.execution import follow_plan
from robotracer.planning.pick_place import plan_pick_and_place
from robotracer.robots.base import make_robot
from robotracer.robots.ur5e.kinematics import UR5eKinematics
from robotracer.trace.types import Trace3D

pytestmark = pytest.mark.slow


def _trace(start, end, lift=0.12):
    up = np.array([0, 0, lift])
    return Trace3D(np.array([start, start + up / 2, start + up, 0.5 * (start + end) + up, end + up, end + up / 2, end]), "base_link")


def test_follow_plan_through_the_mujoco_driver_moves_the_cup():
    sim = TabletopSim()
    kin = UR5eKinematics()
    try:
        with make_robot("ur5e_mujoco", sim=sim) as robot:
            start = sim.object_top_center("cup")
            plate = sim.object_poses()["plate"][0]
            end = np.array([plate[0], plate[1] - 0.17, start[2]])
            plan = plan_pick_and_place(_trace(start, end), robot.get_observation().positions, kin)
            seen = []
            result = follow_plan(robot, plan, on_progress=lambda t, ph, wp: seen.append(ph))
            assert result.completed and result.phase == "home"
            assert [p for i, p in enumerate(seen) if i == 0 or seen[i - 1] != p] == [
                "approach", "grasp", "lift", "carry", "place", "release", "retreat", "home"
            ]
            cup = sim.object_poses()["cup"][0]
            assert np.linalg.norm(cup[:2] - end[:2]) < 0.03 and sim.is_upright("cup")

            sim.reset(None)
            plan = plan_pick_and_place(_trace(sim.object_top_center("cup"), end), robot.get_observation().positions, kin)
            calls = iter(range(10**6))
            result = follow_plan(robot, plan, should_cancel=lambda: next(calls) >= 100)
            assert not result.completed and result.phase == "approach"
            q = robot.get_observation().positions
            sim.step(500)
            np.testing.assert_allclose(robot.get_observation().positions, q, atol=0.05)
    finally:
        sim.close()
