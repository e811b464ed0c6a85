"""The G1 moves an object per instruction through unitree_sdk2py, with the simulation bridge in another process.

The trace is built from the simulator's ground truth (the path of the object's top-centre point,
in the pelvis frame), so this checks the robot side alone: planning, the arm-SDK fade, tracking on
the robot's clock, the Dex3 grasp, standing balance, and where the object ends up.
"""

import multiprocessing as mp
import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
import pytest

from robotracer.evaluation.placement import check_placement
from robotracer.geometry.transforms import RigidTransform
from robotracer.language.instruction import parse_instruction
from robotracer.robots.g1.driver import G1Driver, G1DriverConfig
from robotracer.robots.g1.follower import G1TraceFollower, UnreachableTraceError
from robotracer.sim.g1.bridge import BridgeConfig, serve
from robotracer.sim.g1.scene import G1SceneConfig
from robotracer.trace.types import Trace3D

DOMAIN = 87  # unitree_sdk2py channels are initialised once per process: every G1 test module uses one domain
PELVIS_MIN_HEIGHT = 0.72  # metres
PELVIS_MAX_TILT_DEG = 5.0


class Bridge:
    """The bridge in a spawned process, with ground-truth queries over a pipe."""

    def __init__(self, domain: int) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        # rt/lowstate at 100 Hz: the driver streams at 100 Hz, and the 500 Hz physics loop keeps up on 2 cores
        config = BridgeConfig(domain_id=domain, state_hz=100.0, realtime=True)
        self._proc = ctx.Process(target=serve, args=(config, G1SceneConfig(), child), daemon=True)
        self._proc.start()
        assert self._conn.poll(120), "bridge did not start"
        assert self._conn.recv() == "ready"

    def ask(self, *request):
        self._conn.send(request)
        answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def close(self):
        try:
            self._conn.send(("stop",))
            self._conn.poll(10) and self._conn.recv()
        finally:
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()


@pytest.fixture(scope="module")
def robot():
    bridge = Bridge(DOMAIN)
    driver = G1Driver(G1DriverConfig(domain_id=DOMAIN, interface="lo", state_timeout=5.0))
    try:
        driver.connect(timeout=60.0)
        driver.sleep(0.5)
        yield bridge, driver
    finally:
        driver.disconnect()
        bridge.close()


def _poses(bridge, T_pelvis_world: np.ndarray) -> dict:
    out = {}
    for name in ("cup", "plate", "block", "apple"):
        p, q = bridge.ask("object_pose", name)
        T = T_pelvis_world @ RigidTransform.from_xyz_quat_wxyz(p, q).matrix
        x, y, z, w = RigidTransform.from_matrix(T).quat_xyzw
        out[name] = (T[:3, 3], np.array([w, x, y, z]))
    return out


def _object_trace(bridge, name: str, target_xy_world, T_pelvis_world, support_dz: float = 0.0) -> Trace3D:
    """Top-centre path: up 8 cm, over to the target, down onto a support ``support_dz`` above the table."""
    top = bridge.ask("object_top", name)
    end = np.array([*target_xy_world, top[2] + 0.005 + support_dz])
    world = np.array([top, top + [0, 0, 0.08], end + [0, 0, 0.08], end])
    pelvis = (T_pelvis_world[:3, :3] @ world.T).T + T_pelvis_world[:3, 3]
    return Trace3D(pelvis, "pelvis")


@pytest.mark.slow
@pytest.mark.timeout(420)
@pytest.mark.parametrize(
    "text, target_xy, support_dz",
    [
        ("put the cup left of the plate", (0.34, 0.12), 0.0),
        ("put the cup on the plate", (0.35, 0.0), 0.015),  # the plate is 1.5 cm thick
    ],
)
def test_object_ends_where_asked_and_robot_keeps_standing(robot, text, target_xy, support_dz):
    bridge, driver = robot
    bridge.ask("reset")
    driver.sleep(1.0)
    T_pelvis_world = np.linalg.inv(bridge.ask("body_pose", "pelvis"))
    T_base_camera = RigidTransform.from_matrix(T_pelvis_world @ bridge.ask("head_camera_pose"))
    table_z = (T_pelvis_world @ np.array([0, 0, G1SceneConfig().table.height, 1.0]))[2]
    before = _poses(bridge, T_pelvis_world)
    instruction = parse_instruction(text)
    trace = _object_trace(bridge, instruction.moved_object, target_xy, T_pelvis_world, support_dz)
    bridge.ask("reset_stats")

    follower = G1TraceFollower(driver)
    plan = follower.plan(trace, driver.state().q)
    report = follower.execute(plan)
    driver.sleep(1.0)

    after = _poses(bridge, T_pelvis_world)
    result = check_placement(instruction, before, after, T_base_camera, table_z=table_z)
    assert result.success, (result.reason, result.details, report)
    stats = bridge.ask("stats")
    assert stats.min_pelvis_height > PELVIS_MIN_HEIGHT, stats
    assert np.degrees(stats.max_pelvis_tilt) < PELVIS_MAX_TILT_DEG, stats


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_out_of_reach_trace_is_rejected_before_any_motion(robot):
    bridge, driver = robot
    q0 = driver.state().q
    T_pelvis_world = np.linalg.inv(bridge.ask("body_pose", "pelvis"))
    trace = _object_trace(bridge, "apple", (0.66, 0.0), T_pelvis_world)  # the back of the table
    with pytest.raises(UnreachableTraceError, match="out of reach"):
        G1TraceFollower(driver).plan(trace, q0)
    driver.sleep(0.5)
    assert driver.weight == 0.0  # arm control never faded in
    np.testing.assert_allclose(driver.state().q, q0, atol=0.02)
