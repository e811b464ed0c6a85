"""Pick-carry-place motion from an object-centric trace.

The trace contract (agreed with the tracer side): a :class:`~robotracer.trace.types.Trace3D`
in the robot base frame whose points are the path of the moved object's TOP-CENTRE point.
Point 0 is the top centre of the object where it stands now; the last point is where that
same point should be when the object stands at its destination; the points in between
lift, carry and lower it.

The gripper grasps top-down: the TCP (between the fingertips) goes ``grasp_depth`` below
the top centre (never lower than the table plus a margin), and keeps that offset to the
object's top along the whole trace, so the TCP path is the trace shifted down.

Phases: ``approach`` (joint move to a pre-grasp pose above the object, then straight down),
``grasp`` (close), ``lift`` (trace point 0 -> 1), ``carry`` (1 -> N-2), ``place``
(N-2 -> N-1), ``release`` (open), ``retreat`` (straight up), ``home`` (joint move).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from robotracer.geometry.transforms import RigidTransform
from robotracer.trace.types import Trace3D

PHASES = ("approach", "grasp", "lift", "carry", "place", "release", "retreat", "home")


class PlanningError(ValueError):
    """The trace cannot be executed; ``reason`` is the user-facing explanation."""

    def __init__(self, reason: str, waypoint_index: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.waypoint_index = waypoint_index


class UnreachableWaypointError(PlanningError):
    """A TCP pose along the motion has no IK solution within the joint limits."""


class WaypointTooLowError(PlanningError):
    """A waypoint would put the gripper or the carried object into the table."""


class MotionDiscontinuityError(PlanningError):
    """Consecutive Cartesian samples need a large joint jump (a singularity or a branch switch)."""


class InvalidTraceError(PlanningError):
    """The trace is malformed for this contract (frame, length)."""


class Kinematics(Protocol):
    """What the planner needs from a robot's kinematics (``UR5eKinematics`` satisfies it)."""

    joint_limits: np.ndarray  # (6, 2)
    velocity_limits: np.ndarray  # (6,)
    acceleration_limits: np.ndarray  # (6,)

    def fk(self, q: np.ndarray) -> RigidTransform: ...

    def tcp_positions(self, qs: np.ndarray) -> np.ndarray: ...  # (N, 6) -> (N, 3)

    def ik(self, T_base_tcp: RigidTransform, q_seed: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class PickPlaceParams:
    """Tuning of the pick-carry-place motion (metres, seconds, radians).

    Attributes:
        grasp_depth: TCP this far below the object's top centre when grasping.
        pregrasp_height: approach / retreat this far above the grasp / release TCP.
        table_height: table top z in the base frame.
        table_margin: lowest TCP height above the table.
        object_clearance: lowest the carried object's bottom may go below the table between the end points.
        grasp_yaw: TCP yaw about the base z; None = facing radially out from the base at the start.
        cartesian_step: spacing of IK samples along straight-line TCP motion.
        cartesian_speed: TCP speed along straight-line motion.
        velocity_scale, acceleration_scale: fractions of the robot's joint limits used.
        max_joint_step: largest joint change between consecutive Cartesian samples before it is a discontinuity.
        gripper_close_time, gripper_open_time: time holding still while the gripper moves.
        grasp_closure: commanded closure when grasping (1 = fully closed).
        sample_dt: spacing of the plan's samples.
        frame_id: the base frame the trace must be in.
    """

    grasp_depth: float = 0.03
    pregrasp_height: float = 0.10
    table_height: float = 0.0
    table_margin: float = 0.012
    object_clearance: float = 0.01
    grasp_yaw: float | None = None
    cartesian_step: float = 0.01
    cartesian_speed: float = 0.15
    velocity_scale: float = 0.5
    acceleration_scale: float = 0.5
    max_joint_step: float = 0.35
    gripper_close_time: float = 1.0
    gripper_open_time: float = 0.7
    grasp_closure: float = 1.0
    sample_dt: float = 0.01
    frame_id: str = "base_link"

    def __post_init__(self) -> None:
        positive = ("pregrasp_height", "cartesian_step", "cartesian_speed", "gripper_close_time", "gripper_open_time", "sample_dt", "max_joint_step")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("velocity_scale", "acceleration_scale", "grasp_closure"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if self.grasp_depth < 0 or self.table_margin < 0:
            raise ValueError("grasp_depth and table_margin must be >= 0")


@dataclass(frozen=True)
class PlanSegment:
    """One phase of the plan: ``phase`` name from :data:`PHASES`, over ``[t_start, t_end]`` seconds."""

    phase: str
    t_start: float
    t_end: float


@dataclass(frozen=True)
class MotionPlan:
    """A time-parametrised pick-carry-place motion.

    Attributes:
        times: ``(K,)`` float64 seconds from 0, increasing.
        positions: ``(K, 6)`` float64 arm joint targets, radians.
        gripper: ``(K,)`` float64 closure command in [0, 1].
        phase_index: ``(K,)`` int index into :data:`PHASES` per sample.
        waypoint_index: ``(K,)`` int index of the last trace waypoint reached (0 before the lift).
        segments: the phases in order with their time spans.
        tcp_targets: ``(N, 3)`` float64 TCP positions at the trace waypoints, base frame.
        waypoint_positions: ``(N, 6)`` float64 joint angles at the trace waypoints.
    """

    times: np.ndarray
    positions: np.ndarray
    gripper: np.ndarray
    phase_index: np.ndarray
    waypoint_index: np.ndarray
    segments: tuple[PlanSegment, ...]
    tcp_targets: np.ndarray
    waypoint_positions: np.ndarray

    @property
    def duration(self) -> float:
        return float(self.times[-1])

    @property
    def phases(self) -> tuple[str, ...]:
        """Phase name per sample."""
        return tuple(PHASES[i] for i in self.phase_index)

    def sample(self, t: float) -> tuple[np.ndarray, float, str, int]:
        """``(q (6,), gripper closure, phase, trace waypoint index)`` at time ``t`` (clamped to the plan)."""
        t = float(np.clip(t, 0.0, self.duration))
        k = int(np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.times) - 2))
        t0, t1 = self.times[k], self.times[k + 1]
        a = 0.0 if t1 <= t0 else (t - t0) / (t1 - t0)
        q = (1 - a) * self.positions[k] + a * self.positions[k + 1]
        g = (1 - a) * self.gripper[k] + a * self.gripper[k + 1]
        j = k + 1 if a > 0.0 else k  # the phase of the sample being moved towards
        return q, float(g), PHASES[self.phase_index[j]], int(self.waypoint_index[j])


@dataclass
class _Segment:
    """A geometric phase: joint path ``q`` (M, 6), Cartesian flag, gripper at start/end, waypoint index per row."""

    phase: str
    q: np.ndarray
    cartesian: bool
    gripper: tuple[float, float]
    waypoint: np.ndarray
    hold_time: float = 0.0
    tcp: np.ndarray | None = None  # (M, 3) for Cartesian segments


def _fmt(p) -> str:
    return "(" + ", ".join(f"{v:.2f}" for v in p) + ")"


def _top_down(yaw: float) -> np.ndarray:
    """TCP rotation with z pointing down (base -z) and x at ``yaw`` about base z."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, s, 0.0], [s, -c, 0.0], [0.0, 0.0, -1.0]])


class _Planner:
    def __init__(self, trace: Trace3D, q_start, kinematics: Kinematics, params: PickPlaceParams, q_home=None) -> None:
        if trace.frame_id != params.frame_id:
            raise InvalidTraceError(
                f"trace is in frame '{trace.frame_id}' but the planner works in '{params.frame_id}': lift it into the base frame first"
            )
        if len(trace) < 2:
            raise InvalidTraceError(f"a pick-and-place trace needs at least 2 points (start, end), got {len(trace)}")
        self.P = trace.positions
        self.kin, self.p = kinematics, params
        self.q_start = np.asarray(q_start, dtype=np.float64).reshape(6)
        self.q_home = self.q_start if q_home is None else np.asarray(q_home, dtype=np.float64).reshape(6)
        P, p = self.P, params
        height = P[0, 2] - p.table_height
        if height <= 0:
            raise WaypointTooLowError(
                f"trace start {_fmt(P[0])} m is not above the table (z = {p.table_height:.2f} m): it must be the object's top centre",
                0,
            )
        floor = p.table_height + p.table_margin
        self.offset = P[0, 2] - max(P[0, 2] - p.grasp_depth, floor)  # TCP is this far below the top
        self.tcp = P - np.array([0.0, 0.0, self.offset])
        for i in range(len(P)):
            if self.tcp[i, 2] < floor - 1e-9:
                raise WaypointTooLowError(
                    f"trace point {i} {_fmt(P[i])} m is too low: the gripper would be {floor - self.tcp[i, 2]:.3f} m "
                    "into the table margin",
                    i,
                )
            bottom = P[i, 2] - height
            if 0 < i < len(P) - 1 and bottom < p.table_height - p.object_clearance:
                raise WaypointTooLowError(
                    f"trace point {i} {_fmt(P[i])} m would push the carried object {p.table_height - bottom:.3f} m into the table",
                    i,
                )
        yaw = p.grasp_yaw if p.grasp_yaw is not None else math.atan2(P[0, 1], P[0, 0])
        self.R = _top_down(yaw)  # proper by construction

    def _ik(self, pos, seed, what: str, index: int | None, at=None) -> np.ndarray:
        """IK of the top-down TCP at ``pos``; on failure the error names ``what`` (``at`` a point)."""
        try:
            return self.kin.ik(RigidTransform.unchecked(self.R, pos), seed)
        except ValueError as e:  # the kinematics' errors (UnreachableError is a ValueError)
            where = "" if at is None else f" at {_fmt(at)} m"
            raise UnreachableWaypointError(f"{what}{where} is unreachable: {e}", index) from e

    def _line(self, a, b, seed, what: str, wp: tuple[int, int] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = max(1, int(math.ceil(np.linalg.norm(b - a) / self.p.cartesian_step)))
        qs, pts = [seed], [a]
        for k in range(1, n + 1):
            x = a + (b - a) * k / n
            q = self._ik(x, qs[-1], what, wp[1] if wp else None, at=x)
            jump = float(np.max(np.abs(q - qs[-1])))
            if jump > self.p.max_joint_step:
                raise MotionDiscontinuityError(
                    f"{what} near {_fmt(x)} m needs a {jump:.2f} rad joint jump (singularity or IK branch switch)",
                    wp[1] if wp else None,
                )
            qs.append(q)
            pts.append(x)
        wpi = np.full(n + 1, wp[0] if wp else 0)
        if wp:
            wpi[-1] = wp[1]
        return np.array(qs), np.array(pts), wpi

    def _joint_move(self, qa, qb, phase: str, wp: int) -> _Segment:
        n = max(2, int(math.ceil(np.max(np.abs(qb - qa)) / 0.05)) + 1)
        q = np.linspace(qa, qb, n)
        floor = self.p.table_height + self.p.table_margin
        z = self.kin.tcp_positions(q[1:-1])[:, 2]
        if len(z) and z.min() < floor:
            low = float(z.min())
            raise WaypointTooLowError(f"the joint-space {phase} move would bring the gripper to z = {low:.3f} m, into the table", wp)
        return _Segment(phase, q, False, (0.0, 0.0), np.full(n, wp))

    def segments(self) -> list[_Segment]:
        p, tcp, N = self.p, self.tcp, len(self.tcp)
        up = np.array([0.0, 0.0, p.pregrasp_height])
        close = p.grasp_closure
        q_pre = self._ik(tcp[0] + up, self.q_start, f"pre-grasp pose above trace start {_fmt(self.P[0])} m", 0)
        segs = [self._joint_move(self.q_start, q_pre, "approach", 0)]
        q, x, w = self._line(tcp[0] + up, tcp[0], q_pre, "approach descent", None)
        segs.append(_Segment("approach", q, True, (0.0, 0.0), w, tcp=x))
        q_grasp = q[-1]
        segs.append(_Segment("grasp", q_grasp[None], False, (0.0, close), np.zeros(1, int), hold_time=p.gripper_close_time))
        spans = [("lift", 0, 1)] + ([("carry", 1, N - 2)] if N > 3 else []) + ([("place", N - 2, N - 1)] if N > 2 else [])
        if N == 2:
            spans = [("carry", 0, 1)]
        q_cur = q_grasp
        self.waypoint_q = [q_grasp]
        for phase, i0, i1 in spans:
            qs, xs, ws = [q_cur[None]], [tcp[i0][None]], [np.array([i0])]
            for i in range(i0, i1):
                q, x, w = self._line(tcp[i], tcp[i + 1], q_cur, f"trace segment {i}->{i + 1}", (i, i + 1))
                qs.append(q[1:]), xs.append(x[1:]), ws.append(w[1:])
                q_cur = q[-1]
                self.waypoint_q.append(q_cur)
            segs.append(_Segment(phase, np.vstack(qs), True, (close, close), np.concatenate(ws), tcp=np.vstack(xs)))
        segs.append(_Segment("release", q_cur[None], False, (close, 0.0), np.full(1, N - 1), hold_time=p.gripper_open_time))
        q, x, w = self._line(tcp[-1], tcp[-1] + up, q_cur, "retreat", None)
        segs.append(_Segment("retreat", q, True, (0.0, 0.0), np.full(len(q), N - 1), tcp=x))
        home = self._joint_move(q[-1], self.q_home, "home", N - 1)
        segs.append(home)
        return segs


def _time_segment(seg: _Segment, vmax: np.ndarray, amax: np.ndarray, cart_speed: float, dt: float):
    """Samples ``(t (M,), q (M, 6), gripper (M,), waypoint (M,))`` of one segment, starting at t = 0.

    The path is followed at the largest speed the joint velocity limits (and, for straight
    lines, the TCP speed) allow, entered and left with a constant-acceleration ramp sized so
    the joint accelerations stay within ``amax`` at the ramps.
    """
    if seg.hold_time > 0 or len(seg.q) == 1:
        T = max(seg.hold_time, dt)
        t = np.arange(0.0, T + 1e-12, dt)
        if t[-1] < T - 1e-9:
            t = np.append(t, T)
        g = np.interp(t, [0.0, T], list(seg.gripper))
        return t, np.repeat(seg.q[:1], len(t), axis=0), g, np.full(len(t), seg.waypoint[-1])
    dq = np.abs(np.diff(seg.q, axis=0))
    nominal = np.max(dq / vmax, axis=1)  # time per step at full joint speed
    if seg.tcp is not None:
        nominal = np.maximum(nominal, np.linalg.norm(np.diff(seg.tcp, axis=0), axis=1) / cart_speed)
    tau = np.concatenate([[0.0], np.cumsum(nominal)])
    T = float(tau[-1])
    if T <= 0:
        return _time_segment(_Segment(seg.phase, seg.q[:1], False, seg.gripper, seg.waypoint[-1:], dt), vmax, amax, cart_speed, dt)
    # peak joint rate along the path at full speed (rad/s) -> ramp time so that rate / t_ramp <= amax
    rate = dq / np.maximum(nominal, 1e-12)[:, None]
    t_ramp = max(0.1, float(np.max(rate.max(axis=0) / amax)))
    if T >= t_ramp:  # trapezoid in the path-time tau: accelerate over t_ramp, cruise, decelerate
        total = T + t_ramp
    else:  # triangle: never reaches full speed
        t_ramp = math.sqrt(T * t_ramp)
        total = 2.0 * t_ramp
    peak = T / (total - t_ramp)
    t = np.arange(0.0, total + 1e-12, dt)
    if t[-1] < total - 1e-9:
        t = np.append(t, total)
    s = np.where(
        t < t_ramp,
        0.5 * peak / t_ramp * t**2,
        np.where(t <= total - t_ramp, peak * (t - 0.5 * t_ramp), T - 0.5 * peak / t_ramp * (total - t) ** 2),
    )
    s = np.clip(s, 0.0, T)
    q = np.stack([np.interp(s, tau, seg.q[:, j]) for j in range(6)], axis=1)
    idx = np.clip(np.searchsorted(tau, s + 1e-12, side="right") - 1, 0, len(tau) - 1)
    g = np.interp(t, [0.0, total], list(seg.gripper))
    return t, q, g, seg.waypoint[idx]


def check_reachability(
    trace: Trace3D, q_start: np.ndarray, kinematics: Kinematics, params: PickPlaceParams = PickPlaceParams(), q_home=None
) -> np.ndarray:
    """The geometric planning without the timing: ``(N, 6)`` joint angles at the trace waypoints.

    Raises:
        PlanningError: a subclass saying which point is unreachable, too low or needs a joint jump.
    """
    planner = _Planner(trace, q_start, kinematics, params, q_home)
    planner.segments()
    return np.array(planner.waypoint_q)


def plan_pick_and_place(
    trace: Trace3D,
    q_start: np.ndarray,
    kinematics: Kinematics,
    params: PickPlaceParams = PickPlaceParams(),
    q_home: np.ndarray | None = None,
) -> MotionPlan:
    """Plan grasp at the trace start, follow it, place at its end, retreat and go home.

    Args:
        trace: object-centric trace, top-centre path of the moved object, ``params.frame_id`` frame.
        q_start: ``(6,)`` current arm joint angles.
        kinematics: FK/IK of the arm (e.g. :class:`robotracer.robots.ur5e.kinematics.UR5eKinematics`).
        params: tuning.
        q_home: ``(6,)`` where to end; default ``q_start``.

    Raises:
        PlanningError: nothing is executable; ``.reason`` says why and ``.waypoint_index`` where.
    """
    planner = _Planner(trace, q_start, kinematics, params, q_home)
    segs = planner.segments()
    vmax = np.asarray(kinematics.velocity_limits) * params.velocity_scale
    amax = np.asarray(kinematics.acceleration_limits) * params.acceleration_scale
    times, qs, gs, ph, wps, spans = [], [], [], [], [], []
    t0 = 0.0
    for seg in segs:
        t, q, g, w = _time_segment(seg, vmax, amax, params.cartesian_speed, params.sample_dt)
        if times:  # drop the first sample: it repeats the previous segment's last
            t, q, g, w = t[1:], q[1:], g[1:], w[1:]
            if len(t) == 0:
                continue
        times.append(t + t0)
        qs.append(q), gs.append(g), wps.append(w)
        ph.append(np.full(len(t), PHASES.index(seg.phase)))
        spans.append(PlanSegment(seg.phase, t0, float(t0 + t[-1])))
        t0 = float(t0 + t[-1])
    merged: list[PlanSegment] = []
    for s in spans:
        if merged and merged[-1].phase == s.phase:
            merged[-1] = PlanSegment(s.phase, merged[-1].t_start, s.t_end)
        else:
            merged.append(s)
    return MotionPlan(
        times=np.concatenate(times),
        positions=np.vstack(qs),
        gripper=np.concatenate(gs),
        phase_index=np.concatenate(ph).astype(int),
        waypoint_index=np.concatenate(wps).astype(int),
        segments=tuple(merged),
        tcp_targets=planner.tcp.copy(),
        waypoint_positions=np.array(planner.waypoint_q),
    )
