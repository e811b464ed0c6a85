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
        approach: metres the hand stays above the grasp height before grasping and after placing.
        approach_back: metres the hand backs off behind the object (along the hand's forward axis),
            enough for the open fingers to clear it when the hand comes down.
        step: metres between IK waypoints along Cartesian segments.
        cartesian_speed: m/s of the hand along the trace.
        velocity_scale: fraction of the joint speed limits used.
        position_tolerance: metres of IK error accepted at a waypoint.
        payload_kg: mass assumed in the hand for the torque check.
        torque_margin: fraction of each motor's torque limit the static torque may use.
        lift_x: pelvis-frame x (in front of the body, short of the table edge) where the hand rises
            before going over the table and comes back after placing.
        lift_above: metres above the approach height at that point.
        grasp_seconds: robot seconds to close / open the hand.
        command_period: robot seconds between arm targets during a segment.
        settle_tolerance: max joint error (rad) at a segment's end before going on.
        settle_timeout: robot seconds to wait for it.
    """

    arm: str = "auto"
    grasp_depth: float = 0.02
    approach: float = 0.10
    approach_back: float = 0.0
    step: float = 0.01
    cartesian_speed: float = 0.12
    velocity_scale: float = 0.5
    position_tolerance: float = 0.005
    payload_kg: float = 0.3
    torque_margin: float = 0.8
    grasp_seconds: float = 1.0
    lift_x: float = 0.05
    lift_above: float = 0.04
    command_period: float = 0.01
    settle_tolerance: float = 0.02
    settle_timeout: float = 1.5

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


def _swing(q_low: np.ndarray, q_high: np.ndarray, raise_arm: bool) -> np.ndarray:
    """Joint path ``(3, 7)`` between the hanging arm and the raised one that keeps the hand clear of a table in front.

    Raising, the shoulder moves first and the elbow and wrist follow; lowering, the elbow and wrist
    fold first (the fingers turn down while the hand is still high) and the shoulder follows.
    """
    if raise_arm:
        via = np.concatenate([q_high[:3], q_low[3:]])
        return np.array([q_low, via, q_high])
    via = np.concatenate([q_low[:3], q_high[3:]])
    return np.array([q_low, via, q_high])


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
        back = -hand_x * cfg.approach_back
        up = np.array([0.0, 0.0, cfg.approach])
        g0, g1 = grasp_path[0], grasp_path[-1]
        approach_pts = _densify(np.array([g0 + back + up, g0 + back, g0]), cfg.step)
        carry_pts = _densify(grasp_path, cfg.step)
        retreat_pts = _densify(np.array([g1, g1 + back, g1 + back + up]), cfg.step)
        # the hand rises beside the body (the same point on the way out and back) before it goes over the table
        home_y = ik.forward(q_home)[1, 3]
        park = np.array([cfg.lift_x, home_y, max(g0[2], g1[2]) + cfg.approach + cfg.lift_above])
        q_park = solve_path(park[None], grasp_sol.q, "lift", 0.0)[0]
        in_pts = _densify(np.array([park, approach_pts[0]]), cfg.step)
        out_pts = _densify(np.array([retreat_pts[-1], park]), cfg.step)
        q_in = solve_path(in_pts, q_park, "approach", 0.0)
        q_approach = solve_path(approach_pts, q_in[-1], "approach", 0.0)
        q_carry = solve_path(carry_pts, q_approach[-1], "trace", cfg.payload_kg)
        q_retreat = solve_path(retreat_pts, q_carry[-1], "retreat", 0.0)
        q_out = solve_path(out_pts, q_retreat[-1], "retreat", 0.0)

        segments = (
            self._timed("reach", _swing(q_start, q_in[0], raise_arm=True), None),
            self._timed("over", q_in, in_pts),
            self._timed("approach", q_approach, approach_pts, hand=1.0),
            self._timed("carry", q_carry, carry_pts, hand=0.0),
            self._timed("retreat", np.concatenate([q_retreat, q_out[1:]]), np.concatenate([retreat_pts, out_pts[1:]])),
            self._timed("home", np.vstack([q_out[-1:], _swing(q_park, q_home, raise_arm=False)]), None),
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
    ) -> ExecutionReport:
        """Run a plan on the robot's clock: fade in, segments, fade out.

        Each segment's joint path is interpolated at the robot time elapsed since it started
        (:meth:`G1Driver.now`), sent with gravity feed-forward torques, and the arm must settle
        within ``settle_tolerance`` of the segment's last waypoint before the hand moves or the
        next segment starts. On ``cancel`` the arm holds where it is (:class:`ExecutionCancelled`);
        the legs never leave the standing controller.
        """
        if self.driver is None:
            raise RuntimeError("this follower has no driver: build it with G1TraceFollower(driver)")
        drv, cfg, cancel = self.driver, self.config, cancel or threading.Event()
        ik = self.ik[plan.side]
        motors = list(plan.motors)

        def stop_if_cancelled(where: str) -> None:
            if cancel.is_set():
                drv.hold()
                raise ExecutionCancelled(f"cancelled during {where}; the {plan.side} arm holds where it stopped")

        q_now = drv.state().q[motors]
        drv.set_arm_target(plan.motors, q_now, ik.gravity_torque(q_now))
        drv.fade_in(wait=True)
        total, done = plan.duration, 0.0
        settle_errors: dict[str, float] = {}
        t_begin = drv.now()
        for seg in plan.segments:
            payload = cfg.payload_kg if seg.name == "carry" else 0.0
            t0 = drv.now()
            while True:
                stop_if_cancelled(seg.name)
                t = min(drv.now() - t0, seg.times[-1])
                q = np.array([np.interp(t, seg.times, seg.q[:, j]) for j in range(7)])
                drv.set_arm_target(plan.motors, q, ik.gravity_torque(q, payload))
                if on_progress is not None:
                    on_progress(seg.name, min(1.0, (done + t) / total))
                if t >= seg.times[-1]:
                    break
                drv.sleep(cfg.command_period, cancel)
            settle_errors[seg.name] = self._settle(seg.q[-1], motors, cancel)
            stop_if_cancelled(seg.name)
            done += seg.times[-1]
            if seg.hand is not None:
                drv.set_hand(plan.side, seg.hand)
                drv.sleep(cfg.grasp_seconds, cancel)
                stop_if_cancelled(f"the hand {'closing' if seg.hand > 0.5 else 'opening'} after {seg.name}")
        drv.fade_out(wait=True)
        return ExecutionReport(plan.side, drv.now() - t_begin, settle_errors)

    def _settle(self, q_goal: np.ndarray, motors: list[int], cancel: threading.Event) -> float:
        """Wait (robot time, at most ``settle_timeout``) until the arm is within ``settle_tolerance`` rad; the final max error."""
        drv, cfg = self.driver, self.config
        end = drv.now() + cfg.settle_timeout
        while True:
            err = float(np.max(np.abs(drv.state().q[motors] - q_goal)))
            if err <= cfg.settle_tolerance or drv.now() >= end or cancel.is_set():
                return err
            drv.sleep(cfg.command_period, cancel)


@dataclass(frozen=True)
class ExecutionReport:
    """What an execution did: the arm, robot-clock seconds, and the max joint error (rad) left at each segment's end."""

    side: str
    seconds: float
    settle_errors: dict[str, float]
