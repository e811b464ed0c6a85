"""The arm robot contract: one interface for simulated and real arms, chosen by config name.

LeRobot-style: ``connect`` / ``disconnect`` (or a ``with`` block), ``get_observation``,
``send_action`` that returns what was actually sent after clipping, ``stop`` to hold
still. Each device has a config dataclass validated in ``__post_init__`` and is
registered by name; :func:`make_robot` builds one from a name or a config.
"""

from __future__ import annotations

import abc
import importlib
from dataclasses import dataclass, fields
from typing import Callable, ClassVar

import numpy as np


class RobotError(RuntimeError):
    """A robot driver failed; the message says what to do."""


class RobotNotConnectedError(RobotError):
    """An operation needs ``connect()`` first."""


@dataclass(frozen=True)
class ArmObservation:
    """The arm's state.

    Attributes:
        joint_names: the arm joints, in the order of the arrays.
        positions: ``(n,)`` float64 radians.
        velocities: ``(n,)`` float64 rad/s.
        gripper: measured closure in [0, 1] (0 open).
        stamp: seconds (simulation time for a simulator, the robot's clock for hardware).
    """

    joint_names: tuple[str, ...]
    positions: np.ndarray
    velocities: np.ndarray
    gripper: float
    stamp: float


@dataclass(frozen=True)
class ArmAction:
    """A command as sent: ``q_target`` ``(n,)`` radians and ``gripper`` closure in [0, 1]; ``clipped`` if changed."""

    q_target: np.ndarray
    gripper: float
    clipped: bool = False


@dataclass(frozen=True)
class RobotConfig:
    """Base of the per-device configs. ``max_joint_velocity`` (rad/s) and ``control_period`` (s) bound each step."""

    max_joint_velocity: float = np.pi / 2
    control_period: float = 0.008

    def __post_init__(self) -> None:
        if not self.max_joint_velocity > 0:
            raise ValueError(f"max_joint_velocity must be > 0 rad/s, got {self.max_joint_velocity}")
        if not 0 < self.control_period <= 0.1:
            raise ValueError(f"control_period must be in (0, 0.1] s, got {self.control_period}")


def clip_joint_command(
    q_target: np.ndarray, q_reference: np.ndarray, limits: np.ndarray, max_velocity: float, period: float
) -> tuple[np.ndarray, bool]:
    """Clip ``q_target`` ``(n,)`` to ``limits`` ``(n, 2)`` and to ``max_velocity * period`` from ``q_reference`` ``(n,)``.

    Returns the command and whether anything was clipped.
    """
    q = np.asarray(q_target, dtype=np.float64)
    if q.shape != np.shape(q_reference):
        raise ValueError(f"joint command has shape {q.shape}, expected {np.shape(q_reference)}")
    if not np.all(np.isfinite(q)):
        raise ValueError("joint command contains NaN or inf")
    step = max_velocity * period
    out = np.clip(q, q_reference - step, q_reference + step)
    out = np.clip(out, limits[:, 0], limits[:, 1])
    return out, bool(np.any(np.abs(out - q) > 1e-12))


class ArmRobot(abc.ABC):
    """An arm with a gripper. Use as ``with make_robot("ur5e_mujoco") as robot: ...``."""

    config: RobotConfig
    joint_names: tuple[str, ...]

    @property
    @abc.abstractmethod
    def is_connected(self) -> bool: ...

    @abc.abstractmethod
    def connect(self) -> None:
        """Open the connection / start the simulator. Idempotent."""

    @abc.abstractmethod
    def disconnect(self) -> None:
        """Stop motion and close the connection. Idempotent."""

    @abc.abstractmethod
    def get_observation(self) -> ArmObservation: ...

    @abc.abstractmethod
    def send_action(self, q_target: np.ndarray, gripper: float) -> ArmAction:
        """Command joint targets ``(n,)`` and a gripper closure; returns what was sent after clipping."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Hold the current position."""

    def _require_connected(self) -> None:
        if not self.is_connected:
            raise RobotNotConnectedError(f"{type(self).__name__} is not connected: call connect() or use a `with` block")

    def __enter__(self) -> "ArmRobot":
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.disconnect()


@dataclass(frozen=True)
class _Entry:
    config_cls: type[RobotConfig]
    robot_cls: type[ArmRobot]


_REGISTRY: dict[str, _Entry] = {}
# Built-in drivers, imported on first use so that optional SDKs load only when asked for.
_BUILTIN_MODULES = {
    "ur5e_mujoco": "robotracer.robots.ur5e.mujoco_driver",
    "ur5e_rtde": "robotracer.robots.ur5e.rtde_driver",
}


def register_robot(name: str, config_cls: type[RobotConfig]) -> Callable[[type[ArmRobot]], type[ArmRobot]]:
    """Class decorator: register ``robot_cls`` under ``name`` with its config class."""

    def deco(robot_cls: type[ArmRobot]) -> type[ArmRobot]:
        _REGISTRY[name] = _Entry(config_cls, robot_cls)
        robot_cls.registry_name = name  # type: ignore[attr-defined]
        return robot_cls

    return deco


def robot_names() -> list[str]:
    """Every known robot name (registered or built in)."""
    return sorted(set(_REGISTRY) | set(_BUILTIN_MODULES))


def _entry(name: str) -> _Entry:
    if name not in _REGISTRY and name in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown robot '{name}'; known robots: {', '.join(robot_names())}") from None


def make_robot(config: str | RobotConfig, **kwargs) -> ArmRobot:
    """Build (not connect) a robot from a registered name (default config) or a config instance.

    ``kwargs`` go to the robot's constructor (e.g. an existing simulator).
    """
    if isinstance(config, str):
        entry = _entry(config)
        return entry.robot_cls(entry.config_cls(), **kwargs)
    for name in list(_BUILTIN_MODULES):
        if name not in _REGISTRY and type(config).__module__ == _BUILTIN_MODULES[name]:
            _entry(name)
    for entry in _REGISTRY.values():
        if type(config) is entry.config_cls:
            return entry.robot_cls(config, **kwargs)
    raise KeyError(f"no robot registered for config {type(config).__name__}; known robots: {', '.join(robot_names())}")
