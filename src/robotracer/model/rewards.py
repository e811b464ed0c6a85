"""Rewards of RoboTracer's reinforcement fine-tuning (RFT) and GRPO's advantages.

A rollout is the model's full text: reasoning in ``<think>…</think>`` followed by the trace in
``<answer>[(x, y, d), ...]</answer>``. Rewards:

* ``R_OF`` outcome format: 1 when the text has the think/answer structure and the answer is a
  trace the project parser accepts, else 0.
* ``R_P`` point reward: ``½[f(p₁, p̂₁) + f(p_T, p̂_T)]`` with ``f(p, p') = max(0, 1 − ‖p − p'‖²)``
  on ``(u, v, d)`` normalised to [0, 1] (u, v / 1000, depth / the scene's maximum depth).
* ``R_T`` trace reward: ``max(0, 1 − DTW)`` between the normalised traces (DTW averaged over
  the warping path, so it is in the same units as one point distance).
* ``R_PF`` process format: the fraction of key-step lines of the reasoning that are well formed.
* ``R_Acc`` key-step accuracy against the annotated key steps (referring: 0.5 if the (u, v) L1
  error ≤ 10 % of the image's long side + 0.5 if the depth is within ±30 %; measuring and scale:
  1 if within ±30 %).

Key steps are lines of the reasoning written as::

    [referring] the red cup: (412, 530, 0.82)
    [measuring] distance from the cup to the plate: 0.35
    [scale] 1.0

The total is ``r = R_OF + R_P + 0.25·R_PF + 0.25·R_Acc`` (+ ``w_T·R_T`` when a trace weight is set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from robotracer.trace.parsing import TraceParseError, parse_trace
from robotracer.trace.types import NORMALIZED_RANGE, CoordinateConvention, Trace

KEY_STEP_KINDS = ("referring", "measuring", "scale")

_THINK_ANSWER = re.compile(r"^\s*<think>(?P<think>.*?)</think>\s*<answer>(?P<answer>.*?)</answer>\s*$", re.S | re.I)
_THINK = re.compile(r"<think>(.*?)</think>", re.S | re.I)
_STEP_LINE = re.compile(r"^\s*\[(?P<kind>[a-z_]+)\]\s*(?P<rest>.*)$", re.I)
_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_STEP_BODY = {
    "referring": re.compile(rf"^(?P<label>[^:]*):\s*\(\s*(?P<u>{_NUM})\s*,\s*(?P<v>{_NUM})\s*,\s*(?P<d>{_NUM})\s*\)\s*$"),
    "measuring": re.compile(rf"^(?P<label>[^:]*):\s*(?P<x>{_NUM})\s*(?:m|meters?|metres?)?\s*$", re.I),
    "scale": re.compile(rf"^(?P<label>[^:]*?):?\s*(?P<x>{_NUM})\s*$"),
}


@dataclass(frozen=True)
class KeyStep:
    """One intermediate perception step of the reasoning.

    Attributes:
        kind: ``referring`` (a point ``(u, v, d)``), ``measuring`` (a length in metres) or ``scale``.
        label: what the step is about (``the red cup``).
        value: ``(u, v, d)`` for referring, ``(x,)`` otherwise.
    """

    kind: str
    label: str
    value: tuple[float, ...]

    def __post_init__(self) -> None:
        if self.kind not in KEY_STEP_KINDS:
            raise ValueError(f"unknown key-step kind {self.kind!r}; valid: {', '.join(KEY_STEP_KINDS)}")
        want = 3 if self.kind == "referring" else 1
        if len(self.value) != want:
            raise ValueError(f"a {self.kind} key step holds {want} number(s), got {len(self.value)}")


def parse_key_steps(text: str) -> tuple[list[KeyStep], int]:
    """Read the key steps of the reasoning (the ``<think>`` block, or the whole text without one).

    Returns:
        (the well-formed key steps in order, the number of lines that look like key steps).
    """
    match = _THINK.search(text)
    body = match.group(1) if match else text
    steps: list[KeyStep] = []
    candidates = 0
    for line in body.splitlines():
        head = _STEP_LINE.match(line)
        if not head:
            continue
        candidates += 1
        kind = head.group("kind").lower()
        pattern = _STEP_BODY.get(kind)
        m = pattern.match(head.group("rest").strip()) if pattern else None
        if not m:
            continue
        if kind == "referring":
            value = (float(m.group("u")), float(m.group("v")), float(m.group("d")))
        else:
            value = (float(m.group("x")),)
        steps.append(KeyStep(kind, m.group("label").strip(), value))
    return steps, candidates


def format_reward(text: str, require_depth: bool = True) -> float:
    """``R_OF``: 1.0 if ``text`` is ``<think>…</think><answer>trace</answer>`` with a parsable trace."""
    m = _THINK_ANSWER.match(text or "")
    if not m:
        return 0.0
    try:
        parse_trace(m.group("answer"), require_depth=require_depth, min_points=2)
    except TraceParseError:
        return 0.0
    return 1.0


def normalized_points(trace: Trace, max_depth: float) -> np.ndarray:
    """``(N, 3)`` float64: ``(u/1000, v/1000, d/max_depth)`` of a [0, 1000] (u, v, d) trace."""
    if not trace.has_depth:
        raise ValueError("rewards need (u, v, d) traces; this trace has no depth")
    if not max_depth > 0:
        raise ValueError(f"max_depth must be positive (the scene's maximum depth in metres), got {max_depth}")
    pts = trace.points if trace.convention is CoordinateConvention.NORMALIZED_1000 else trace.to_normalized().points
    return pts / np.array([NORMALIZED_RANGE, NORMALIZED_RANGE, max_depth])


def _f(p: np.ndarray, q: np.ndarray) -> float:
    return float(max(0.0, 1.0 - float(np.sum((p - q) ** 2))))


def point_reward(pred: Trace, gt: Trace, max_depth: float) -> float:
    """``R_P = ½[f(p₁, p̂₁) + f(p_T, p̂_T)]``: how close the start and end points are."""
    p, g = normalized_points(pred, max_depth), normalized_points(gt, max_depth)
    return 0.5 * (_f(p[0], g[0]) + _f(p[-1], g[-1]))


def dtw_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Dynamic-time-warping distance of ``(N, D)`` and ``(M, D)`` point sequences.

    Euclidean point cost; the optimal path's total cost divided by its length (a mean point
    distance, so it does not grow with the number of points).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) == 0 or len(b) == 0:
        raise ValueError("DTW needs two non-empty sequences")
    cost = np.linalg.norm(a[:, None, :] - b[None, :, :], axis=-1)
    n, m = cost.shape
    acc = np.full((n + 1, m + 1), np.inf)
    steps = np.zeros((n + 1, m + 1), dtype=np.int64)
    acc[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            prev = ((acc[i - 1, j - 1], steps[i - 1, j - 1]), (acc[i - 1, j], steps[i - 1, j]), (acc[i, j - 1], steps[i, j - 1]))
            best, length = min(prev, key=lambda t: (t[0], t[1]))
            acc[i, j] = cost[i - 1, j - 1] + best
            steps[i, j] = length + 1
    return float(acc[n, m] / steps[n, m])


def trace_reward(pred: Trace, gt: Trace, max_depth: float) -> float:
    """``R_T = max(0, 1 − DTW)`` on normalised (u, v, d)."""
    return float(max(0.0, 1.0 - dtw_distance(normalized_points(pred, max_depth), normalized_points(gt, max_depth))))


def process_format_reward(text: str) -> float:
    """``R_PF``: fraction of key-step lines that are well formed (0 with no key steps)."""
    steps, candidates = parse_key_steps(text)
    return len(steps) / candidates if candidates else 0.0


def _within(pred: float, gt: float, tolerance: float) -> bool:
    return gt != 0 and abs(pred - gt) <= tolerance * abs(gt)


def key_step_accuracy_reward(
    pred: list[KeyStep], gt: list[KeyStep], image_size: tuple[int, int], tolerance: float = 0.30
) -> float:
    """``R_Acc``: mean per-step accuracy of the predicted key steps against the annotated ones.

    The i-th annotated step of a kind is compared with the i-th predicted step of that kind; a
    missing step scores 0. ``image_size`` is ``(width, height)`` of the image (for the long side).
    """
    if not gt:
        return 0.0
    width, height = image_size
    long_side = max(width, height)
    by_kind = {k: [s for s in pred if s.kind == k] for k in KEY_STEP_KINDS}
    seen = {k: 0 for k in KEY_STEP_KINDS}
    total = 0.0
    for g in gt:
        i = seen[g.kind]
        seen[g.kind] += 1
        if i >= len(by_kind[g.kind]):
            continue
        p = by_kind[g.kind][i]
        if g.kind == "referring":
            du = abs(p.value[0] - g.value[0]) / NORMALIZED_RANGE * width
            dv = abs(p.value[1] - g.value[1]) / NORMALIZED_RANGE * height
            total += 0.5 * (du + dv <= 0.10 * long_side) + 0.5 * _within(p.value[2], g.value[2], tolerance)
        else:
            total += 1.0 * _within(p.value[0], g.value[0], tolerance)
    return total / len(gt)


@dataclass(frozen=True)
class RewardWeights:
    """Weights of the total reward (defaults: ``R_OF + R_P + 0.25·R_PF + 0.25·R_Acc``)."""

    format: float = 1.0
    point: float = 1.0
    trace: float = 0.0
    process_format: float = 0.25
    key_step: float = 0.25


@dataclass(frozen=True)
class RewardBreakdown:
    """Every reward of one rollout and their weighted total."""

    format: float
    point: float
    trace: float
    process_format: float
    key_step: float
    total: float


def total_reward(
    text: str,
    gt: Trace,
    max_depth: float,
    image_size: tuple[int, int],
    gt_key_steps: list[KeyStep] | None = None,
    weights: RewardWeights = RewardWeights(),
) -> RewardBreakdown:
    """Score one rollout ``text`` against the ground-truth trace (and key steps).

    A rollout without a parsable answer gets 0 for every outcome reward (format, point, trace).
    """
    r_of = format_reward(text)
    r_p = r_t = 0.0
    m = _THINK_ANSWER.match(text or "")
    if m and r_of:
        pred = parse_trace(m.group("answer"), require_depth=True, min_points=2)
        r_p = point_reward(pred, gt, max_depth)
        r_t = trace_reward(pred, gt, max_depth)
    r_pf = process_format_reward(text or "")
    r_acc = key_step_accuracy_reward(parse_key_steps(text or "")[0], gt_key_steps or [], image_size)
    total = (
        weights.format * r_of
        + weights.point * r_p
        + weights.trace * r_t
        + weights.process_format * r_pf
        + weights.key_step * r_acc
    )
    return RewardBreakdown(r_of, r_p, r_t, r_pf, r_acc, total)


def grpo_advantages(rewards: np.ndarray, group_size: int, eps: float = 1e-6) -> np.ndarray:
    """GRPO's group-normalised advantages ``(r − mean_group) / (std_group + eps)``.

    Args:
        rewards: ``(B·G,)`` float, rollouts of the same prompt contiguous (G = ``group_size``).

    Returns:
        ``(B·G,)`` float64 advantages (0 for a group whose rewards are all equal).
    """
    r = np.asarray(rewards, dtype=np.float64).reshape(-1)
    if group_size < 1 or r.size % group_size:
        raise ValueError(f"{r.size} rewards do not split into groups of {group_size}")
    g = r.reshape(-1, group_size)
    adv = (g - g.mean(axis=1, keepdims=True)) / (g.std(axis=1, keepdims=True) + eps)
    return adv.reshape(-1)
