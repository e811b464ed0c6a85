"""G1 driver over unitree_sdk2py only: the same code drives the real robot and the simulation bridge.

It reads ``rt/lowstate``, streams arm targets on ``rt/arm_sdk`` at ``rate_hz`` with a weight that
ramps smoothly (fade-in / fade-out, ``weight_rate`` per second), and commands the Dex3 hands on
``rt/dex3/{side}/cmd``. Legs stay with the robot's own standing controller throughout.

**Clock**: everything timed (the weight ramp, :meth:`G1Driver.sleep`, trajectories built on
:meth:`G1Driver.now`) runs on the robot's clock, the ``tick`` (milliseconds) of ``rt/lowstate``.
On the real robot that is wall time; against the simulation bridge it is simulated time, so a
bridge running slower than real time slows the motion down with it instead of outrunning it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np

from robotracer.robots.g1 import joints as J
from robotracer.robots.g1 import sdk


class G1DriverError(RuntimeError):
    """The G1 could not be reached or commanded; the message says what to check."""


@dataclass(frozen=True)
class G1DriverConfig:
    """Driver settings.

    Attributes:
        domain_id: DDS domain (0 on the real robot; a free one for simulation tests).
        interface: network interface (``lo`` for the simulation; the robot's NIC otherwise).
        rate_hz: ``rt/arm_sdk`` streaming rate.
        weight_rate: arm-SDK weight change per second (fade-in takes ``1 / weight_rate`` s).
        arm_kp, arm_kd: ``(29,)`` gains sent for the waist and arm motors.
        state_timeout: seconds without ``rt/lowstate`` after which the robot counts as lost.
    """

    domain_id: int = 0
    interface: str = "lo"
    rate_hz: float = 100.0
    weight_rate: float = 1.0
    arm_kp: tuple[float, ...] = tuple(J.DEFAULT_KP)
    arm_kd: tuple[float, ...] = tuple(J.DEFAULT_KD)
    state_timeout: float = 0.5


@dataclass(frozen=True)
class G1State:
    """One ``rt/lowstate`` sample: ``q``, ``dq``, ``tau`` ``(29,)`` motor order; pelvis ``rpy`` ``(3,)``; ``stamp`` monotonic s."""

    q: np.ndarray
    dq: np.ndarray
    tau: np.ndarray
    rpy: np.ndarray
    quaternion: np.ndarray
    tick: int
    stamp: float


class G1Driver:
    """Arm-SDK and Dex3 control of a G1. Use as a context manager or call :meth:`connect` / :meth:`disconnect`."""

    def __init__(self, config: G1DriverConfig = G1DriverConfig()) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._state: G1State | None = None
        self._hand_q: dict[str, np.ndarray] = {}
        self._target_q: np.ndarray | None = None
        self._target_tau = np.zeros(J.NUM_BODY_MOTORS)
        self._weight = 0.0
        self._weight_goal = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._arm_pub = self._state_sub = None
        self._hand_pubs: dict = {}
        self._hand_subs: dict = {}
        self.sent = 0
        self._now = 0.0
        self._tick_base: int | None = None
        self._tick_wraps = 0
        self._last_tick = 0

    # -- lifecycle -----------------------------------------------------------------------------
    def connect(self, timeout: float = 5.0) -> None:
        """Open the channels, wait for the first state and start streaming (weight 0: no effect yet)."""
        sdk.init_channels(self.config.domain_id, self.config.interface)
        # rt/lowstate (500 Hz on the robot), rt/arm_sdk and the hand states are read and written as
        # serialized samples with numpy (sdk.decode_lowstate, sdk.encode_lowcmd): the same bytes as the
        # SDK's messages at a twentieth of the cost
        self._state_sub = sdk.RawSubscriber(sdk.TOPIC_LOWSTATE, sdk.LowState_, self._on_state)
        self._arm_pub = sdk.RawPublisher(sdk.TOPIC_ARM_SDK, sdk.LowCmd_)
        for side, (cmd_topic, state_topic) in J.HAND_TOPICS.items():
            pub = sdk.ChannelPublisher(cmd_topic, sdk.HandCmd_)
            pub.Init()
            self._hand_pubs[side] = pub
            self._hand_subs[side] = sdk.RawSubscriber(
                state_topic, sdk.HandState_, lambda payload, side=side: self._on_hand_state(side, payload)
            )
        state = self.wait_for_state(timeout)
        with self._lock:
            self._target_q = state.q.copy()
        self._stop.clear()
        self._thread = threading.Thread(target=self._stream, name="g1-arm-sdk", daemon=True)
        self._thread.start()

    def disconnect(self) -> None:
        """Fade arm control out (if on), stop streaming and close the channels."""
        if self._thread is not None:
            if self._weight > 0.0:
                self.fade_out(wait=True)
            self._stop.set()
            self._thread.join(timeout=2.0)
            self._thread = None
        for ch in [self._state_sub, self._arm_pub, *self._hand_subs.values()]:
            if ch is not None:
                ch.close()
        for pub in self._hand_pubs.values():
            pub.Close()
        self._hand_pubs.clear()
        self._hand_subs.clear()
        self._arm_pub = self._state_sub = None

    def __enter__(self) -> "G1Driver":
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.disconnect()

    # -- state ---------------------------------------------------------------------------------
    def _on_state(self, payload: bytes) -> None:
        try:
            s = sdk.decode_lowstate(payload)
        except ValueError:  # not a unitree_hg LowState_: ignored like a bad CRC
            return
        if not s.crc_ok:
            return
        state = G1State(q=s.q, dq=s.dq, tau=s.tau, rpy=s.rpy, quaternion=s.quaternion, tick=s.tick, stamp=time.monotonic())
        with self._lock:
            if self._tick_base is None:
                self._tick_base = state.tick
            elif state.tick < self._last_tick and self._last_tick - state.tick > 1 << 31:
                self._tick_wraps += 1  # the 32-bit millisecond tick wrapped
            self._last_tick = state.tick
            self._state = state
            self._now = ((self._tick_wraps << 32) + state.tick - self._tick_base) * 1e-3

    def _on_hand_state(self, side: str, payload: bytes) -> None:
        q = sdk.decode_hand_state_q(payload)[:7]
        with self._lock:
            self._hand_q[side] = q

    def state(self) -> G1State:
        """The latest state; raises :class:`G1DriverError` if it is older than ``state_timeout``."""
        with self._lock:
            state = self._state
        if state is None or time.monotonic() - state.stamp > self.config.state_timeout:
            raise G1DriverError(
                f"no rt/lowstate from the G1 for {self.config.state_timeout:.1f} s on domain {self.config.domain_id} "
                f"({self.config.interface!r}): is the robot (or the simulation bridge) running?"
            )
        return state

    def wait_for_state(self, timeout: float = 5.0) -> G1State:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return self.state()
            except G1DriverError:
                time.sleep(0.01)
        return self.state()

    def now(self) -> float:
        """Robot clock in seconds (from the ``rt/lowstate`` tick; 0 at the first state received)."""
        with self._lock:
            return self._now

    def sleep(self, seconds: float, cancel: threading.Event | None = None) -> bool:
        """Wait ``seconds`` of robot time; returns False early if ``cancel`` is set.

        Raises :class:`G1DriverError` if the state stream stops while waiting.
        """
        end = self.now() + seconds
        while self.now() < end:
            if cancel is not None and cancel.is_set():
                return False
            self.state()  # raises if the robot went silent
            time.sleep(0.001)
        return not (cancel is not None and cancel.is_set())

    def hand_q(self, side: str) -> np.ndarray | None:
        """Latest ``(7,)`` Dex3 joint angles of one hand, or None before its first state."""
        with self._lock:
            q = self._hand_q.get(side)
        return None if q is None else q.copy()

    @property
    def weight(self) -> float:
        """Arm-SDK weight currently sent (0 = standing controller only, 1 = arm SDK only)."""
        return self._weight

    # -- commands ------------------------------------------------------------------------------
    def set_arm_target(self, motors: tuple[int, ...], q: np.ndarray, tau_ff: np.ndarray | None = None) -> None:
        """Joint targets (and optional feed-forward torques) for some waist / arm motors (motor indices)."""
        bad = [m for m in motors if m not in J.ARM_SDK_JOINTS]
        if bad:
            raise ValueError(f"motors {bad} are not arm-SDK motors; valid: {list(J.ARM_SDK_JOINTS)}")
        with self._lock:
            self._target_q[list(motors)] = q
            if tau_ff is not None:
                self._target_tau[list(motors)] = tau_ff

    def hold(self) -> None:
        """Stop the arms where they are: targets := measured angles (weight unchanged)."""
        q = self.state().q
        with self._lock:
            self._target_q[list(J.ARM_SDK_JOINTS)] = q[list(J.ARM_SDK_JOINTS)]

    def fade_in(self, wait: bool = True) -> None:
        """Ramp the arm-SDK weight to 1 from the current arm pose (no jump)."""
        if self._weight <= 0.0:
            self.hold()
        self._weight_goal = 1.0
        if wait:
            self._wait_weight(1.0)

    def fade_out(self, wait: bool = True) -> None:
        """Ramp the weight to 0: control goes back to the standing controller."""
        self._weight_goal = 0.0
        if wait:
            self._wait_weight(0.0)

    def _wait_weight(self, goal: float) -> None:
        deadline = self.now() + 1.0 / self.config.weight_rate + 0.5
        while abs(self._weight - goal) > 1e-6 and self.now() < deadline:
            self.state()  # raises if the robot went silent
            time.sleep(0.005)

    def set_hand(self, side: str, closure: float) -> None:
        """Dex3 hand posture: 0 = open, 1 = closed (linear in joint space)."""
        J.check_side(side)
        c = float(np.clip(closure, 0.0, 1.0))
        q = (1.0 - c) * J.HAND_OPEN[side] + c * J.HAND_CLOSED[side]
        self._hand_pubs[side].Write(sdk.hand_cmd(q))

    def _stream(self) -> None:
        period = 1.0 / self.config.rate_hz
        kp, kd = np.array(self.config.arm_kp), np.array(self.config.arm_kd)
        next_t = time.monotonic()
        last = self.now()
        while not self._stop.is_set():
            now = self.now()
            step = self.config.weight_rate * max(0.0, now - last)  # the ramp runs on robot time
            last = now
            self._weight = float(np.clip(self._weight_goal, self._weight - step, self._weight + step))
            with self._lock:
                q, tau = self._target_q.copy(), self._target_tau.copy()
            enabled = np.zeros(J.NUM_BODY_MOTORS, dtype=bool)
            enabled[list(J.ARM_SDK_JOINTS)] = True
            self._arm_pub.write(sdk.encode_lowcmd(q, kp, kd, tau=tau, enabled=enabled, arm_sdk_weight=self._weight))
            self.sent += 1
            next_t += period
            delay = next_t - time.monotonic()
            if delay > 0:
                self._stop.wait(delay)
            else:
                next_t = time.monotonic()
