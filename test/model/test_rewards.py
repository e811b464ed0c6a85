import numpy as np
import pytest

from robotracer.model.rewards import (
    KeyStep,
    RewardWeights,
    dtw_distance,
    format_reward,
    grpo_advantages,
    key_step_accuracy_reward,
    parse_key_steps,
    point_reward,
    process_format_reward,
    total_reward,
    trace_reward,
)
from robotracer.trace.types import Trace

GT = Trace(np.array([[100.0, 200.0, 1.0], [300.0, 200.0, 1.5], [500.0, 400.0, 2.0]]))
ROLLOUT = (
    "<think>\n[referring] the red cup: (100, 200, 1.0)\n[measuring] cup to plate: 0.40 m\n[scale] 1.0\n</think>"
    "<answer>[(100, 200, 1.0), (300, 200, 1.5), (500, 400, 2.0)]</answer>"
)


def test_format_reward_requires_think_answer_and_a_parsable_trace():
    assert format_reward(ROLLOUT) == 1.0
    assert format_reward("[(100, 200, 1.0), (300, 200, 1.5)]") == 0.0  # no tags
    assert format_reward("<think>x</think><answer>no points</answer>") == 0.0
    assert format_reward("<think>x</think><answer>[(1, 2), (3, 4)]</answer>") == 0.0  # 2D where 3D is asked
    assert format_reward("<think>x</think><answer>[(1, 2), (3, 4)]</answer>", require_depth=False) == 1.0


def test_point_reward_uses_start_and_end_on_normalised_uvd():
    assert point_reward(GT, GT, max_depth=4.0) == pytest.approx(1.0)
    shifted = Trace(GT.points + np.array([100.0, 0.0, 0.4]))  # du = 0.1, dd = 0.1 -> f = 1 - 0.02
    assert point_reward(shifted, GT, max_depth=4.0) == pytest.approx(0.98)
    far = Trace(np.array([[1000.0, 1000.0, 4.0], [1000.0, 1000.0, 4.0]]))
    assert point_reward(far, Trace(np.array([[0.0, 0.0, 0.1], [0.0, 0.0, 0.1]])), max_depth=4.0) == 0.0


def test_dtw_matches_a_hand_computed_alignment_and_trace_reward():
    a = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    b = np.array([[0.0, 0.0], [2.0, 0.0]])
    # best path (0,0) (1,0 or 1,1) (2,1): costs 0 + 1 + 0 over 3 steps
    assert dtw_distance(a, b) == pytest.approx(1.0 / 3.0)
    assert dtw_distance(a, a) == 0.0
    assert trace_reward(GT, GT, 4.0) == 1.0
    dense = Trace(np.array([[100.0, 200.0, 1.0], [200.0, 200.0, 1.25], [300.0, 200.0, 1.5], [500.0, 400.0, 2.0]]))
    assert 0.9 < trace_reward(dense, GT, 4.0) < 1.0


def test_key_steps_parse_and_process_format_reward():
    steps, candidates = parse_key_steps(ROLLOUT)
    assert candidates == 3
    assert steps == [
        KeyStep("referring", "the red cup", (100.0, 200.0, 1.0)),
        KeyStep("measuring", "cup to plate", (0.40,)),
        KeyStep("scale", "", (1.0,)),
    ]
    assert process_format_reward(ROLLOUT) == 1.0
    broken = ROLLOUT.replace("(100, 200, 1.0)\n", "somewhere\n", 1)
    assert process_format_reward(broken) == pytest.approx(2 / 3)
    assert process_format_reward("<think>no steps</think><answer>[]</answer>") == 0.0


def test_key_step_accuracy_thresholds():
    size = (640, 480)  # long side 640 -> 64 px L1 budget
    gt = [KeyStep("referring", "cup", (500.0, 500.0, 1.0)), KeyStep("measuring", "gap", (0.5,))]
    exact = key_step_accuracy_reward(gt, gt, size)
    assert exact == 1.0
    # 90 px in u (0.1406 * 640) -> uv fails; depth +20% passes; measuring +40% fails
    pred = [KeyStep("referring", "cup", (640.0, 500.0, 1.2)), KeyStep("measuring", "gap", (0.7,))]
    assert key_step_accuracy_reward(pred, gt, size) == pytest.approx((0.5 + 0.0) / 2)
    pred = [KeyStep("referring", "cup", (550.0, 540.0, 1.5)), KeyStep("measuring", "gap", (0.36,))]
    # L1 = 0.05*640 + 0.04*480 = 51.2 <= 64 -> 0.5; depth +50% -> 0; 0.36 is -28% -> 1
    assert key_step_accuracy_reward(pred, gt, size) == pytest.approx((0.5 + 1.0) / 2)
    assert key_step_accuracy_reward([], gt, size) == 0.0


def test_total_reward_weights_and_garbage():
    gt_steps = [KeyStep("referring", "the red cup", (100.0, 200.0, 1.0)), KeyStep("scale", "", (1.0,))]
    r = total_reward(ROLLOUT, GT, 4.0, (640, 480), gt_steps)
    assert (r.format, r.point, r.trace, r.process_format, r.key_step) == (1.0, 1.0, 1.0, 1.0, 1.0)
    assert r.total == pytest.approx(1 + 1 + 0.25 + 0.25)
    with_trace = total_reward(ROLLOUT, GT, 4.0, (640, 480), gt_steps, RewardWeights(trace=1.0))
    assert with_trace.total == pytest.approx(3.5)
    bad = total_reward("I cannot help", GT, 4.0, (640, 480), gt_steps)
    assert bad.total == 0.0


def test_grpo_advantages_are_normalised_per_group():
    adv = grpo_advantages(np.array([1.0, 2.0, 3.0, 5.0, 5.0, 5.0]), group_size=3)
    assert adv[:3] == pytest.approx([-1.2247, 0.0, 1.2247], abs=1e-3)
    assert np.all(adv[3:] == 0.0)
    with pytest.raises(ValueError, match="groups of 4"):
        grpo_advantages(np.ones(6), group_size=4)
