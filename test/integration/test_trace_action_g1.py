"""/trace goals on the simulated Unitree G1: the config/g1.yaml graph in separate processes.

ROS (Fast DDS) and unitree_sdk2py (cyclonedds) both stay on loopback, each on a domain of this
module's own; the controller reaches the simulated robot only through the SDK's DDS topics.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("robotracer.msg", reason="ROS interfaces not built")

from robotracer.evaluation.placement import check_placement  # noqa: E402
from robotracer.graph import load_graph  # noqa: E402
from robotracer.language.instruction import parse_instruction  # noqa: E402
from robotracer.robots.g1 import joints as J  # noqa: E402
from robotracer.ros.conversions import transform_from_params  # noqa: E402
from robotracer.ros.topics import SIM_BASE_POSE  # noqa: E402

from motion_checks import EStopAtWaypoint, assert_arm_still_half_a_second_after  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_task = load_graph("g1").node("task_server").parameters
T_BASE_CAMERA = transform_from_params(_task["camera_xyz"], _task["camera_rpy"])
TABLE_Z = float(_task["workspace"]["table_height"])
ARM_JOINTS = [J.BODY_JOINTS[m] for m in J.LEFT_ARM + J.RIGHT_ARM]


class G1Graph:
    """The running graph and a test node: /trace goals, /sim/reset, joint states by name, object poses."""

    def __init__(self, running, log_dir: Path) -> None:
        import rclpy
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
        from sensor_msgs.msg import JointState
        from visualization_msgs.msg import MarkerArray

        from robotracer.ros import conversions as conv
        from robotracer.ros import topics
        from robotracer.ros.trace_client import TraceClient, spin_in_background
        from robotracer.srv import ResetSim

        self.running, self.log_dir = running, log_dir
        rclpy.init()
        self.node = rclpy.create_node("g1_integration_test")
        self.client = TraceClient(self.node)
        self.reset_client = self.node.create_client(ResetSim, topics.SIM_RESET)
        self._lock = threading.Lock()
        self._joints: dict[str, float] = {}
        self._arm_log: list[tuple[float, np.ndarray]] = []
        self._pelvis_log: list[tuple[float, float]] = []
        self.poses: dict = {}

        self.sim_time = 0.0

        def on_joints(msg) -> None:
            with self._lock:
                self._joints = dict(zip(msg.name, msg.position))
                self.sim_time = conv.time_to_seconds(msg.header.stamp)
                self._arm_log.append((self.sim_time, np.array([self._joints[n] for n in ARM_JOINTS])))
                del self._arm_log[:-2000]

        def on_base(msg) -> None:
            pelvis = conv.markers_to_poses(msg)["pelvis"][0]
            with self._lock:
                self._pelvis_log.append((conv.time_to_seconds(msg.markers[0].header.stamp), float(pelvis[2])))
                del self._pelvis_log[:-2000]

        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        self.node.create_subscription(JointState, topics.JOINT_STATES, on_joints, 10)
        self.node.create_subscription(MarkerArray, SIM_BASE_POSE, on_base, 10)
        self.node.create_subscription(
            MarkerArray, topics.SIM_OBJECT_POSES, lambda m: self.poses.update(conv.markers_to_poses(m)), latched
        )
        self.executor = spin_in_background(self.node)

    def close(self) -> None:
        import rclpy

        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        rclpy.try_shutdown()

    def reset(self, settle_s: float = 2.0) -> None:
        from robotracer.srv import ResetSim

        assert self.reset_client.wait_for_service(timeout_sec=30.0), "no /sim/reset service"
        future = self.reset_client.call_async(ResetSim.Request(seed=-1))
        deadline = time.monotonic() + 60.0
        while not future.done():
            assert time.monotonic() < deadline, "sim reset timed out"
            time.sleep(0.01)
        assert future.result().success, future.result().message
        self.wait_sim(settle_s)  # the robot settles on its feet; fresh frames and poses

    def release_arm(self, timeout: float = 60.0):
        """Call the controller's ``/controller/release_arm`` (std_srvs/Trigger); its response."""
        from std_srvs.srv import Trigger

        from robotracer.ros import topics

        client = self.node.create_client(Trigger, topics.RELEASE_ARM)
        assert client.wait_for_service(timeout_sec=30.0), "no /controller/release_arm"
        future = client.call_async(Trigger.Request())
        deadline = time.monotonic() + timeout
        while not future.done():
            assert time.monotonic() < deadline, "release_arm did not answer"
            time.sleep(0.01)
        return future.result()

    def wait_sim(self, seconds: float) -> None:
        """Wait ``seconds`` of simulated time (the simulator may run slower than real time)."""
        end = self.sim_time + seconds
        deadline = time.monotonic() + 30.0 * seconds + 30.0
        while self.sim_time < end:
            assert time.monotonic() < deadline, f"simulation clock stalled; logs in {self.log_dir}"
            time.sleep(0.05)

    def arm_joints(self) -> np.ndarray:
        """``(14,)`` left then right arm angles from the latest /joint_states."""
        deadline = time.monotonic() + 10.0
        while True:
            with self._lock:
                joints = dict(self._joints)
            if joints:
                return np.array([joints[n] for n in ARM_JOINTS])
            assert time.monotonic() < deadline, f"no /joint_states; logs in {self.log_dir}"
            time.sleep(0.02)

    def object_poses(self) -> dict:
        return {k: (v[0].copy(), v[1].copy()) for k, v in self.poses.items()}

    def joint_history(self) -> list[tuple[float, np.ndarray]]:
        """``(sim time, (14,) arm angles)`` of the recent /joint_states."""
        with self._lock:
            return list(self._arm_log)

    def pelvis_heights(self, since: float) -> np.ndarray:
        """Ground-truth pelvis heights (m) published from sim time ``since`` on."""
        with self._lock:
            return np.array([z for t, z in self._pelvis_log if t >= since])


@pytest.fixture(scope="module")
def g1_graph(request):
    from robotracer.cli.process_graph import ProcessGraph
    from robotracer.ros.node_runtime import configure_environment

    offset = (os.getpid() + abs(hash(request.module.__name__))) % 100
    os.environ["ROS_DOMAIN_ID"] = str(100 + offset)
    sdk_domain = 120 + offset % 100  # cyclonedds domain of the unitree_sdk2py topics
    configure_environment()
    overrides = {"sim": {"sdk_domain_id": sdk_domain}, "g1_controller": {"sdk_domain_id": sdk_domain}}
    graph = load_graph("g1", overrides)
    log_dir = Path(request.config.rootpath) / "test-logs" / "test_trace_action_g1"
    running = ProcessGraph(graph, output=None, log_dir=log_dir)
    running.start()
    handle = None
    try:
        handle = G1Graph(running, log_dir)
        deadline = time.monotonic() + 240.0
        while not (handle.client.wait_for_server(1.0) and handle.poses):
            dead = running.dead()
            assert not dead, f"nodes died at start-up: {dead}; logs in {log_dir}"
            assert time.monotonic() < deadline, f"G1 graph not up in 240 s; logs in {log_dir}"
        handle.arm_joints()
        yield handle
    finally:
        if handle is not None:
            handle.close()
        running.stop()


@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "instruction, stage, words",
    [
        ("put the cup 40 cm behind the plate", "infer", "off the visible table"),
        # the apple stands at the back of the table: the controller's IK refuses the grasp
        ("put the apple on the plate", "validate", "out of reach"),
    ],
)
def test_far_target_is_refused_before_the_arm_moves(g1_graph, instruction, stage, words):
    g1_graph.reset()
    q0 = g1_graph.arm_joints()
    outcome = g1_graph.client.send(instruction, timeout_s=300)
    assert not outcome.success and outcome.reason
    assert outcome.failed_stage == stage and words in outcome.reason, (outcome.failed_stage, outcome.reason)
    g1_graph.wait_sim(1.0)
    drift = float(np.max(np.abs(g1_graph.arm_joints() - q0)))
    assert drift < 0.02, f"arm moved {drift:.3f} rad after a refused goal: {outcome.reason}"


@pytest.mark.timeout(1500)
def test_cup_ends_left_of_the_plate(g1_graph):
    instruction = "put the cup left of the plate"
    g1_graph.reset()
    before = g1_graph.object_poses()
    stages = []
    outcome = g1_graph.client.send(instruction, feedback=lambda fb: stages.append(fb.stage), timeout_s=1200)
    assert outcome.success, f"{outcome.failed_stage}: {outcome.reason}; logs in {g1_graph.log_dir}"
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == ["capture", "infer", "lift", "validate", "execute"]
    assert outcome.frame_id == "pelvis"
    g1_graph.wait_sim(2.0)
    report = check_placement(parse_instruction(instruction), before, g1_graph.object_poses(), T_BASE_CAMERA, table_z=TABLE_Z)
    assert report.success, report.to_dict()


PELVIS_MIN_HEIGHT = 0.72  # metres: standing (about 0.79 at rest)


@pytest.mark.timeout(1500)
def test_second_goal_while_one_runs_is_rejected(g1_graph):
    from robotracer.ros.trace_client import TraceClient

    g1_graph.reset()
    executing, first = threading.Event(), {}

    def run_first() -> None:  # runs to its end: after a cancel the arm would stay up, in the next capture's view
        first["outcome"] = g1_graph.client.send(
            "put the cup left of the plate", feedback=lambda fb: fb.stage == "execute" and executing.set(), timeout_s=1200
        )

    runner = threading.Thread(target=run_first)
    runner.start()
    assert executing.wait(300), "the first goal never reached execute"
    second = TraceClient(g1_graph.node).send("put the cup on the plate", timeout_s=60)
    runner.join(1200)
    assert second.status == "rejected" and "one goal at a time" in second.reason, (second.status, second.reason)
    assert first["outcome"].success, f"{first['outcome'].failed_stage}: {first['outcome'].reason}"


@pytest.mark.timeout(900)
def test_cancel_mid_execution_holds_the_arm_and_the_robot_keeps_standing(g1_graph):
    g1_graph.reset()
    outcome = g1_graph.client.send(
        "put the cup left of the plate",
        cancel_when=lambda fb: fb.stage == "execute" and fb.current_waypoint >= 1,  # the arm moving over the cup
        timeout_s=600,
    )
    cancel_sim_time = g1_graph.sim_time
    assert not outcome.success and outcome.status == "canceled", f"{outcome.status}: {outcome.reason}"
    assert_arm_still_half_a_second_after(g1_graph, cancel_sim_time)
    heights = g1_graph.pelvis_heights(since=cancel_sim_time)
    assert len(heights) > 5 and heights.min() > PELVIS_MIN_HEIGHT, f"pelvis down to {heights.min():.3f} m after the cancel"
    # the arm holds under arm-SDK control until it is released to the standing controller
    held = g1_graph.arm_joints()
    released = g1_graph.release_arm()
    assert released.success, released.message
    g1_graph.wait_sim(1.0)
    assert float(np.max(np.abs(g1_graph.arm_joints() - held))) > 0.05, "the released arm did not go back to standing"


@pytest.mark.timeout(900)
def test_estop_holds_the_arm_keeps_the_robot_standing_and_refuses_goals_until_released(g1_graph):
    g1_graph.reset()
    estop = EStopAtWaypoint(g1_graph, waypoint=1)
    try:
        outcome = g1_graph.client.send("put the cup left of the plate", feedback=estop, timeout_s=600)
        assert estop.engaged, f"the goal never reached execute: {outcome.reason}"
        assert not outcome.success and outcome.failed_stage == "execute" and "e-stop engaged" in outcome.reason, outcome.reason
        assert_arm_still_half_a_second_after(g1_graph, estop.sim_time)
        heights = g1_graph.pelvis_heights(since=estop.sim_time)
        assert len(heights) > 5 and heights.min() > PELVIS_MIN_HEIGHT, f"pelvis down to {heights.min():.3f} m after the e-stop"
        blocked = g1_graph.client.send("put the cup left of the plate", timeout_s=120)
        assert not blocked.success and "e-stop engaged" in blocked.reason
        refused = g1_graph.release_arm()
        assert not refused.success and "e-stop engaged" in refused.message
    finally:
        estop.release()
    time.sleep(1.0)
    released = g1_graph.release_arm()
    assert released.success, released.message
