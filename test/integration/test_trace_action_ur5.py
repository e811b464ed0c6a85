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
    assert second.status == "rejected" and "one goal at a time" in second.reason
    assert first["o"].accepted
