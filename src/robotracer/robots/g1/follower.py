"""Pick-carry-place along an object-centric trace with one G1 arm.

The trace (a :class:`~robotracer.trace.types.Trace3D` in the ``pelvis`` frame) is the path of the
moved object's **top-centre point**: its first point is where that point is now, its last where
it rests at the destination. The hand's grasp site follows the trace ``grasp_depth`` below it.

Motion: hand above and behind the object -> forward into the grasp (the thumb stops the object
between thumb and fingers) -> close -> follow the trace -> open -> back out and up -> arm home ->
fade out. Every waypoint is solved with :class:`~robotracer.robots.g1.ik.G1ArmIK` *before* any
motion; a trace the arm cannot follow raises :class:`UnreachableTraceError` with the reason.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from robotracer.robots.g1 import joints as J
from robotracer.robots.g1.driver import G1Driver
from robotracer.robots.g1.ik import G1ArmIK
from robotracer.robots.g1.model import BASE_FRAME
from robotracer.trace.types import Trace3D


class UnreachableTraceError(ValueError):
    """The trace cannot be executed by the chosen arm(s); ``reason`` says why (nothing moved)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExecutionCancelled(RuntimeError):
    """Execution stopped on request; the arm holds where it stopped and the robot keeps standing."""


@dataclass(frozen=True)
class FollowerConfig:
    """How traces are followed.

    Attributes:
        arm: ``auto`` (the arm on the object's side, else the other one if only it can reach), ``left`` or ``right``.
        grasp_depth: metres below the object's top where the grasp site holds it.
        approach: metres the hand backs off (behind and above) before grasping and after placing.
        step: metres between IK waypoints along Cartesian segments.
        cartesian_speed: m/s of the hand along the trace.
        velocity_scale: fraction of the joint speed limits used.
        position_tolerance: metres of IK error accepted at a waypoint.
        payload_kg: mass assumed in the hand for the torque check.
        torque_margin: fraction of each motor's torque limit the static torque may use.
        grasp_seconds: time to close / open the hand.
    """

    arm: str = "auto"
    grasp_depth: float = 0.02
    approach: float = 0.08
    step: float = 0.01
    cartesian_speed: float = 0.12
    velocity_scale: float = 0.5
    position_tolerance: float = 0.005
    payload_kg: float = 0.3
    torque_margin: float = 0.8
    grasp_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.arm not in ("auto", "left", "right"):
            raise ValueError(f"unknown arm {self.arm!r}; choose one of: auto, left, right")


@dataclass(frozen=True)
class Segment:
    """A joint-space path ``q`` ``(K, 7)`` with ``times`` ``(K,)`` seconds from the segment start; ``hand`` closure after it."""

    name: str
    q: np.ndarray
    times: np.ndarray
    hand: float | None = None


@dataclass(frozen=True)
class PickPlacePlan:
    """A checked plan: the arm, its motors, the segments, IK timing per waypoint (seconds)."""

    side: str
    motors: tuple[int, ...]
    segments: tuple[Segment, ...]
    ik_seconds: np.ndarray = field(repr=False)

    @property
    def duration(self) -> float:
        return float(sum(s.times[-1] for s in self.segments))


def _densify(points: np.ndarray, step: float) -> np.ndarray:
    """``(N, 3)`` polyline -> points no farther apart than ``step`` (endpoints kept)."""
    out = [points[0]]
    for a, b in zip(points[:-1], points[1:]):
        n = max(1, int(np.ceil(np.linalg.norm(b - a) / step)))
        out.extend(a + (b - a) * (k / n) for k in range(1, n + 1))
    return np.array(out)


class G1TraceFollower:
    """Plans and executes object-centric traces with a :class:`G1Driver`."""

    def __init__(self, driver: G1Driver | None, config: FollowerConfig = FollowerConfig()) -> None:
        self.driver = driver
        self.config = config
        self.ik = {side: G1ArmIK(side) for side in J.ARMS}

    # -- planning (no motion) -----------------------------------------------------------------
    def plan(self, trace: Trace3D, q_now: np.ndarray | None = None) -> PickPlacePlan:
        """Check and plan ``trace`` (pelvis frame). Raises :class:`UnreachableTraceError` before any motion."""
        if trace.frame_id != BASE_FRAME:
            raise UnreachableTraceError(f"trace is in frame {trace.frame_id!r}; the G1 follows traces in {BASE_FRAME!r}")
        if len(trace) < 2:
            raise UnreachableTraceError("a pick-and-place trace needs at least 2 points (start on the object, end at the destination)")
        q_now = J.STAND_POSTURE if q_now is None else np.asarray(q_now, dtype=np.float64)
        start_y = trace.positions[0, 1]
        if self.config.arm == "auto":
            first = "left" if start_y >= 0 else "right"
            sides = (first, "right" if first == "left" else "left")
        else:
            sides = (self.config.arm,)
        reasons = []
        for side in sides:
            try:
                return self._plan_arm(trace, side, q_now)
            except UnreachableTraceError as exc:
                reasons.append(f"{side} arm: {exc.reason}")
        raise UnreachableTraceError("; ".join(reasons))

    def _plan_arm(self, trace: Trace3D, side: str, q_now: np.ndarray) -> PickPlacePlan:
        cfg, ik = self.config, self.ik[side]
        motors = J.ARMS[side]
        q_home = J.STAND_POSTURE[list(motors)]
        q_start = q_now[list(motors)]
        down = np.array([0.0, 0.0, cfg.grasp_depth])
        grasp_path = trace.positions - down
        ik_times: list[float] = []

        def solve_path(points: np.ndarray, q0: np.ndarray, what: str, payload: float) -> np.ndarray:
            qs, q = [], q0
            for i, p in enumerate(points):
                sol = ik.solve(p, np.eye(3), q)
                ik_times.append(sol.seconds)
                if sol.position_error > cfg.position_tolerance:
                    raise UnreachableTraceError(
                        f"{what} point {i} at {np.round(p, 3).tolist()} m ({BASE_FRAME}) is out of reach "
                        f"(closest {sol.position_error * 100:.1f} cm away)"
                    )
                tau = ik.gravity_torque(sol.q, payload)
                limit = cfg.torque_margin * ik.torque_limit
                over = np.abs(tau) > limit
                if np.any(over):
                    j = int(np.argmax(np.abs(tau) / limit))
                    raise UnreachableTraceError(
                        f"{what} point {i}: holding it needs {abs(tau[j]):.1f} N m on {J.BODY_JOINTS[motors[j]]} "
                        f"(limit {limit[j]:.1f} N m)"
                    )
                qs.append(sol.q)
                q = sol.q
            return np.array(qs)

        # grasp pose first: its hand axes define the approach direction
        grasp_sol = ik.solve(grasp_path[0], np.eye(3), q_home)
        hand_x = ik.forward(grasp_sol.q)[:3, 0] if grasp_sol.position_error < cfg.position_tolerance else np.array([1.0, 0, 0])
        back = -hand_x * cfg.approach
        up = np.array([0.0, 0.0, cfg.approach])
        g0, g1 = grasp_path[0], grasp_path[-1]
        approach_pts = _densify(np.array([g0 + back + up, g0 + back, g0]), cfg.step)
        carry_pts = _densify(grasp_path, cfg.step)
        retreat_pts = _densify(np.array([g1, g1 + back, g1 + back + up]), cfg.step)
        q_approach = solve_path(approach_pts, grasp_sol.q, "approach", 0.0)
        q_carry = solve_path(carry_pts, q_approach[-1], "trace", cfg.payload_kg)
        q_retreat = solve_path(retreat_pts, q_carry[-1], "retreat", 0.0)

        segments = (
            self._timed("reach", np.array([q_start, q_approach[0]]), None),
            self._timed("approach", q_approach, approach_pts, hand=1.0),
            self._timed("carry", q_carry, carry_pts, hand=0.0),
            self._timed("retreat", q_retreat, retreat_pts),
            self._timed("home", np.array([q_retreat[-1], q_home]), None),
        )
        return PickPlacePlan(side, motors, segments, np.array(ik_times))

    def _timed(self, name: str, q: np.ndarray, points: np.ndarray | None, hand: float | None = None) -> Segment:
        """Times for a joint path: each step as slow as the joint speed limits or the Cartesian speed require."""
        vmax = self.ik["left"].velocity_limit * self.config.velocity_scale
        dq = np.abs(np.diff(q, axis=0))
        dt = np.max(dq / vmax, axis=1) if len(q) > 1 else np.zeros(0)
        if points is not None and len(points) > 1:
            dt = np.maximum(dt, np.linalg.norm(np.diff(points, axis=0), axis=1) / self.config.cartesian_speed)
        dt = np.maximum(dt, 0.02)
        return Segment(name, q, np.concatenate([[0.0], np.cumsum(dt)]), hand)

    # -- execution ----------------------------------------------------------------------------
    def execute(
        self,
        plan: PickPlacePlan,
        cancel: threading.Event | None = None,
        on_progress: Callable[[str, float], None] | None = None,
    ) -> None:
        """Run a plan: fade in, segments, fade out. On ``cancel`` the arm holds where it is (ExecutionCancelled)."""
        if self.driver is None:
            raise RuntimeError("this follower has no driver: build it with G1TraceFollower(driver)")
        drv, cancel = self.driver, cancel or threading.Event()
        ik = self.ik[plan.side]
        drv.fade_in(wait=True)
        total, done = plan.duration, 0.0
        for seg in plan.segments:
            t0 = time.monotonic()
            while True:
                if cancel.is_set():
                    drv.hold()
                    raise ExecutionCancelled(f"cancelled during {seg.name}; the {plan.side} arm holds where it stopped")
                t = time.monotonic() - t0
                q = np.array([np.interp(min(t, seg.times[-1]), seg.times, seg.q[:, j]) for j in range(7)])
                payload = self.config.payload_kg if seg.name == "carry" else 0.0
                drv.set_arm_target(plan.motors, q, ik.gravity_torque(q, payload))
                if on_progress is not None:
                    on_progress(seg.name, min(1.0, (done + t) / total))
                if t >= seg.times[-1]:
                    break
                time.sleep(0.01)
            done += seg.times[-1]
            if seg.hand is not None:
                drv.set_hand(plan.side, seg.hand)
                if cancel.wait(self.config.grasp_seconds):
                    drv.hold()
                    raise ExecutionCancelled(f"cancelled after {seg.name}; the {plan.side} arm holds where it stopped")
        drv.fade_out(wait=True)
