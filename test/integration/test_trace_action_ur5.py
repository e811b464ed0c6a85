"""/trace goals on the simulated UR5e: nodes in separate processes over DDS (loopback)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from robotracer.evaluation.placement import check_placement
from robotracer.geometry.transforms import RigidTransform
from robotracer.graph import load_graph
from robotracer.language.instruction import parse_instruction

from motion_checks import EStopAtWaypoint, assert_arm_still_half_a_second_after


def arm_moved(before: np.ndarray, after: np.ndarray, tol: float = 2e-3) -> bool:
    return bool(np.max(np.abs(after - before)) > tol)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

_shared = load_graph("ur5").node("task_server").parameters
T_BASE_CAMERA = RigidTransform.from_xyz_rpy(_shared["camera_xyz"], _shared["camera_rpy"])

GOOD_GOALS = [
    ("put the cup left of the plate", -1),
    ("put the apple on the plate", -1),
    ("place the cup behind the plate", -1),
    ("put the cup left of the plate", 4),
    ("put the cup left of the plate", 6),
]


@pytest.mark.parametrize("instruction, seed", GOOD_GOALS)
def test_goal_succeeds_and_object_ends_where_asked(ur5_graph, instruction, seed):
    ur5_graph.reset(seed)
    before = ur5_graph.object_poses()
    stages = []
    outcome = ur5_graph.client.send(instruction, feedback=lambda fb: stages.append(fb.stage), timeout_s=900)
    assert outcome.success, f"{outcome.failed_stage}: {outcome.reason}"
    assert [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s] == ["capture", "infer", "lift", "validate", "execute"]
    assert 6 <= len(outcome.trace_uvd) <= 12 and outcome.frame_id == "base_link"
    assert set(outcome.timings) == {"capture", "infer", "lift", "validate", "execute"}
    time.sleep(1.0)
    report = check_placement(parse_instruction(instruction), before, ur5_graph.object_poses(), T_BASE_CAMERA)
    assert report.success, report.to_dict()


@pytest.mark.parametrize(
    "instruction, stage, words",
    [
        ("", "infer", "empty instruction"),
        ("   ", "infer", "empty instruction"),
        ("put the mug left of the plate", "infer", "no object named 'mug'"),
        ("dance a little", "infer", "understand"),
        ("put the cup 40 cm in front of the bowl", None, ""),
    ],
)
def test_bad_input_ends_with_a_reason_and_the_arm_stays(ur5_graph, instruction, stage, words):
    ur5_graph.reset(-1)
    q0 = ur5_graph.joints()
    outcome = ur5_graph.client.send(instruction, timeout_s=120)
    assert not outcome.success and outcome.reason
    if stage:
        assert outcome.failed_stage == stage, outcome.reason
    assert words.lower() in outcome.reason.lower()
    time.sleep(0.5)
    assert not arm_moved(q0, ur5_graph.joints()), f"arm moved after a refused goal: {outcome.reason}"


def test_unreachable_target_is_refused_before_motion(ur5_graph):
    ur5_graph.reset(-1)
    q0 = ur5_graph.joints()
    outcome = ur5_graph.client.send("put the cup 40 cm in front of the bowl", timeout_s=120)
    assert not outcome.success
    assert outcome.failed_stage in ("infer", "validate"), outcome.reason
    assert not arm_moved(q0, ur5_graph.joints())


def test_cancel_mid_motion_stops_the_arm_within_half_a_second(ur5_graph):
    ur5_graph.reset(-1)
    outcome = ur5_graph.client.send(
        "put the cup left of the plate",
        cancel_when=lambda fb: fb.stage == "execute" and fb.current_waypoint >= 2,
        timeout_s=900,
    )
    cancel_sim_time = ur5_graph.sim_time
    assert not outcome.success and outcome.status == "canceled", outcome.reason
    assert_arm_still_half_a_second_after(ur5_graph, cancel_sim_time)


def test_estop_stops_the_arm_and_refuses_goals_until_released(ur5_graph):
    ur5_graph.reset(-1)
    estop = EStopAtWaypoint(ur5_graph, waypoint=2)
    try:
        outcome = ur5_graph.client.send("put the cup left of the plate", feedback=estop, timeout_s=900)
        assert estop.engaged, f"the goal never reached waypoint 2 of execute: {outcome.reason}"
        assert not outcome.success and outcome.failed_stage == "execute" and "e-stop engaged" in outcome.reason
        assert_arm_still_half_a_second_after(ur5_graph, estop.sim_time)
        held = ur5_graph.joints()
        blocked = ur5_graph.client.send("put the cup left of the plate", timeout_s=120)
        assert not blocked.success and "e-stop engaged" in blocked.reason
        assert not arm_moved(held, ur5_graph.joints())
    finally:
        estop.release()
    time.sleep(1.0)
    ur5_graph.reset(-1)
    released = ur5_graph.client.send("put the apple on the plate", dry_run=True, timeout_s=120)
    assert released.success, f"{released.failed_stage}: {released.reason}"


def test_second_goal_while_one_runs_is_rejected(ur5_graph):
    import threading

    ur5_graph.reset(-1)
    executing = threading.Event()
    first = {}

    def run_first():
        first["o"] = ur5_graph.client.send(
            "put the cup left of the plate",
            feedback=lambda fb: fb.stage == "execute" and executing.set(),
            cancel_when=lambda fb: fb.stage == "execute" and fb.current_waypoint >= 1,
            timeout_s=900,
        )

    t = threading.Thread(target=run_first)
    t.start()
    assert executing.wait(120), "first goal never reached execute"
    from robotracer.ros.trace_client import TraceClient

    second = TraceClient(ur5_graph.node).send("put the apple on the plate", timeout_s=60)
    t.join(240)
    canceled_at = ur5_graph.sim_time
    assert second.status == "rejected" and "one goal at a time" in second.reason
    assert first["o"].accepted and first["o"].status == "canceled", first["o"].reason
    assert_arm_still_half_a_second_after(ur5_graph, canceled_at)  # the first goal's motion ended with it


def test_plan_service_checks_without_moving_and_returns_the_trajectory_only_when_asked(ur5_graph):
    from robotracer.robots.ur5e.kinematics import UR5eKinematics
    from robotracer.ros import conversions as conv
    from robotracer.ros import topics
    from robotracer.srv import PlanTrace
    from robotracer.trace.types import Trace, Trace3D

    ur5_graph.reset(-1)
    checked = ur5_graph.client.send("put the cup left of the plate", dry_run=True, timeout_s=120)
    assert checked.success, f"{checked.failed_stage}: {checked.reason}"
    lifted = Trace3D(checked.trace_xyz, checked.frame_id)
    trace = conv.trace_to_msg(Trace(checked.trace_uvd, image_size=(1000, 1000)), lifted=lifted)
    client = ur5_graph.node.create_client(PlanTrace, topics.PLAN_TRACE)
    assert client.wait_for_service(timeout_sec=30.0)
    before = ur5_graph.joints()

    def call(with_trajectory: bool):
        future = client.call_async(PlanTrace.Request(trace=trace, with_trajectory=with_trajectory))
        deadline = time.monotonic() + 30.0
        while not future.done():
            assert time.monotonic() < deadline, "no answer from the plan service"
            time.sleep(0.01)
        return future.result()

    check, preview = call(False), call(True)
    assert check.success and preview.success, (check.reason, preview.reason)
    assert len(check.trajectory.points) == 0  # the check the task server makes: no trajectory to ship
    points = preview.trajectory.points
    assert len(points) > 10 and list(preview.trajectory.joint_names) == list(UR5eKinematics.joint_names)
    times = [p.time_from_start.sec + 1e-9 * p.time_from_start.nanosec for p in points]
    assert all(b > a for a, b in zip(times, times[1:]))
    np.testing.assert_allclose(points[0].positions, before, atol=0.02)  # starts where the arm is
    time.sleep(0.5)
    assert not arm_moved(before, ur5_graph.joints())


def test_the_trace_is_drawn_and_published_for_viewers(ur5_graph):
    """The lifter's Path and markers and the tracer's overlay image go out while someone subscribes."""
    from nav_msgs.msg import Path
    from sensor_msgs.msg import Image
    from visualization_msgs.msg import MarkerArray

    from robotracer.ros import topics

    got: dict[str, list] = {"path": [], "markers": [], "image": []}
    subs = [
        ur5_graph.node.create_subscription(Path, topics.TRACE_PATH, got["path"].append, 5),
        ur5_graph.node.create_subscription(MarkerArray, topics.TRACE_MARKERS, got["markers"].append, 5),
        ur5_graph.node.create_subscription(Image, topics.TRACE_IMAGE, got["image"].append, 5),
    ]
    try:
        time.sleep(1.5)  # the lifter and tracer discover these subscriptions
        ur5_graph.reset(-1)
        outcome = ur5_graph.client.send("put the apple on the plate", dry_run=True, timeout_s=120)
        assert outcome.success, f"{outcome.failed_stage}: {outcome.reason}"
        deadline = time.monotonic() + 10.0
        while not all(got.values()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(got.values()), {k: len(v) for k, v in got.items()}
        path = got["path"][-1]
        xyz = np.array([[p.pose.position.x, p.pose.position.y, p.pose.position.z] for p in path.poses])
        assert path.header.frame_id == outcome.frame_id
        np.testing.assert_allclose(xyz, outcome.trace_xyz, atol=1e-6)
        assert got["markers"][-1].markers
        image = got["image"][-1]
        assert (image.width, image.height, image.encoding) == (640, 480, "rgb8")
    finally:
        for sub in subs:
            ur5_graph.node.destroy_subscription(sub)
