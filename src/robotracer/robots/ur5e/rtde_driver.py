"""The real UR5e over ur_rtde (servoJ streaming) with a Robotiq 2F-85 on the Robotiq URCap socket.

``ur_rtde`` is imported only when connecting, so everything else works without it. The
RTDE interfaces and the gripper can be injected (tests pass recorded fakes: no network).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from robotracer.robots.base import (
    ArmAction,
    ArmObservation,
    ArmRobot,
    RobotConfig,
    RobotError,
    clip_joint_command,
    register_robot,
)
from robotracer.sim.ur5e_model import ARM_JOINT_NAMES

# UR5e joint limits (rad): +-2*pi everywhere except the elbow, +-pi (UR5e data sheet).
UR5E_JOINT_LIMITS = np.array([[-2 * np.pi, 2 * np.pi]] * 2 + [[-np.pi, np.pi]] + [[-2 * np.pi, 2 * np.pi]] * 3)
ROBOTIQ_URCAP_PORT = 63352


@dataclass(frozen=True)
class UR5eRTDEConfig(RobotConfig):
    """The real UR5e.

    Attributes:
        host: the robot controller's IP address (required; e.g. ``192.168.1.102``).
        control_period: servoJ period, s (125 Hz for a CB3, up to 500 Hz for the e-Series).
        lookahead_time: servoJ smoothing, s, in [0.03, 0.2].
        gain: servoJ proportional gain, in [100, 2000].
        max_joint_velocity: per-step clip, rad/s.
        gripper: ``robotiq_urcap`` (socket on ``gripper_port``) or ``none``.
        gripper_speed, gripper_force: 0..255.
    """

    host: str = ""
    control_period: float = 0.008
    lookahead_time: float = 0.1
    gain: float = 300.0
    max_joint_velocity: float = np.pi / 2
    gripper: str = "robotiq_urcap"
    gripper_port: int = ROBOTIQ_URCAP_PORT
    gripper_speed: int = 128
    gripper_force: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.03 <= self.lookahead_time <= 0.2:
            raise ValueError(f"lookahead_time must be in [0.03, 0.2] s, got {self.lookahead_time}")
        if not 100 <= self.gain <= 2000:
            raise ValueError(f"gain must be in [100, 2000], got {self.gain}")
        if self.gripper not in ("robotiq_urcap", "none"):
            raise ValueError(f"unknown gripper '{self.gripper}'; choices: robotiq_urcap, none")
        if not (0 <= self.gripper_speed <= 255 and 0 <= self.gripper_force <= 255):
            raise ValueError("gripper_speed and gripper_force must be in 0..255")


class RobotiqURCapGripper:
    """The Robotiq 2F-85 through the Robotiq URCap's ASCII socket (``SET POS 0..255`` / ``GET POS``)."""

    def __init__(self, host: str, port: int = ROBOTIQ_URCAP_PORT, speed: int = 128, force: int = 100, timeout: float = 2.0) -> None:
        self.host, self.port, self.speed, self.force, self.timeout = host, port, speed, force, timeout
        self._sock: socket.socket | None = None

    def connect(self) -> None:
        self._sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        if self._get("ACT") != 1:
            self._set("ACT", 1)  # activate (the fingers open and close once)
        self._set("GTO", 1)
        self._set("SPE", self.speed)
        self._set("FOR", self.force)

    def disconnect(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def move(self, closure: float) -> None:
        self._set("POS", int(round(np.clip(closure, 0.0, 1.0) * 255)))

    def closure(self) -> float:
        return self._get("POS") / 255.0

    def _request(self, line: str) -> str:
        if self._sock is None:
            raise RobotError("gripper not connected")
        self._sock.sendall(line.encode("ascii") + b"\n")
        return self._sock.recv(1024).decode("ascii").strip()

    def _set(self, var: str, value: int) -> None:
        reply = self._request(f"SET {var} {value}")
        if reply != "ack":
            raise RobotError(f"gripper refused 'SET {var} {value}' (answered {reply!r}); is the Robotiq URCap running?")

    def _get(self, var: str) -> int:
        reply = self._request(f"GET {var}")
        try:
            return int(reply.split()[-1])
        except (ValueError, IndexError):
            raise RobotError(f"unexpected gripper answer to 'GET {var}': {reply!r}") from None


def _rtde_interfaces(host: str) -> tuple[Any, Any]:
    try:
        import rtde_control
        import rtde_receive
    except ImportError as e:
        raise RobotError("the real UR5e needs ur_rtde: `pip install ur-rtde`") from e
    return rtde_control.RTDEControlInterface(host), rtde_receive.RTDEReceiveInterface(host)


@register_robot("ur5e_rtde", UR5eRTDEConfig)
class UR5eRTDERobot(ArmRobot):
    """servoJ streaming: call ``send_action`` once per ``control_period``.

    Args:
        config: the device config (``host`` required).
        interfaces: optional factory ``host -> (control, receive)`` (ur_rtde's by default).
        gripper: optional gripper object with ``connect/disconnect/move/closure`` (URCap socket by default).
    """

    joint_names = ARM_JOINT_NAMES

    def __init__(
        self,
        config: UR5eRTDEConfig = UR5eRTDEConfig(),
        interfaces: Callable[[str], tuple[Any, Any]] | None = None,
        gripper: Any | None = None,
    ) -> None:
        self.config = config
        self._interfaces = interfaces or _rtde_interfaces
        self._gripper = gripper
        self._control = self._receive = None
        self._last_q: np.ndarray | None = None
        self._last_gripper = 0.0

    @property
    def is_connected(self) -> bool:
        return self._control is not None

    def connect(self) -> None:
        if self.is_connected:
            return
        if not self.config.host:
            raise RobotError("UR5eRTDEConfig.host is empty: set it to the robot controller's IP address")
        self._control, self._receive = self._interfaces(self.config.host)
        if self._gripper is None and self.config.gripper == "robotiq_urcap":
            self._gripper = RobotiqURCapGripper(self.config.host, self.config.gripper_port, self.config.gripper_speed, self.config.gripper_force)
        if self._gripper is not None:
            self._gripper.connect()
        self._last_q = np.asarray(self._receive.getActualQ(), dtype=np.float64)

    def disconnect(self) -> None:
        if not self.is_connected:
            return
        try:
            self._control.servoStop()
            self._control.stopScript()
        finally:
            self._control.disconnect()
            self._receive.disconnect()
            if self._gripper is not None:
                self._gripper.disconnect()
            self._control = self._receive = None

    def get_observation(self) -> ArmObservation:
        self._require_connected()
        r = self._receive
        grip = self._gripper.closure() if self._gripper is not None else 0.0
        return ArmObservation(
            self.joint_names,
            np.asarray(r.getActualQ(), dtype=np.float64),
            np.asarray(r.getActualQd(), dtype=np.float64),
            float(grip),
            float(r.getTimestamp()),
        )

    def send_action(self, q_target: np.ndarray, gripper: float) -> ArmAction:
        self._require_connected()
        c = self.config
        q, clipped = clip_joint_command(q_target, self._last_q, UR5E_JOINT_LIMITS, c.max_joint_velocity, c.control_period)
        t0 = self._control.initPeriod()
        if not self._control.servoJ(q.tolist(), 0.0, 0.0, c.control_period, c.lookahead_time, c.gain):
            raise RobotError("servoJ was refused: is the robot in remote control mode with the protective stop cleared?")
        self._control.waitPeriod(t0)
        self._last_q = q
        g = float(np.clip(gripper, 0.0, 1.0))
        if self._gripper is not None and abs(g - self._last_gripper) > 1e-3:
            self._gripper.move(g)
            self._last_gripper = g
        return ArmAction(q, g, clipped or g != gripper)

    def stop(self) -> None:
        self._require_connected()
        self._control.servoStop()
        self._last_q = np.asarray(self._receive.getActualQ(), dtype=np.float64)
