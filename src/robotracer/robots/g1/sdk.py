"""unitree_sdk2py message helpers for the G1 (unitree_hg IDL): build, read and CRC-check messages.

Shared by the driver (robot side) and the simulation bridge so both speak exactly the same
messages. ``unitree_sdk2py`` comes from PyPI ``unitree-sdk2py-dimos`` (``unitree-sdk2`` 1.0.1 lacks
the ``g1`` package).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

try:
    from unitree_sdk2py.core.channel import ChannelFactoryInitialize, ChannelPublisher, ChannelSubscriber
    from unitree_sdk2py.idl.default import (
        unitree_hg_msg_dds__HandCmd_,
        unitree_hg_msg_dds__HandState_,
        unitree_hg_msg_dds__LowCmd_,
        unitree_hg_msg_dds__LowState_,
    )
    from unitree_sdk2py.idl.unitree_hg.msg.dds_ import HandCmd_, HandState_, LowCmd_, LowState_
    from unitree_sdk2py.utils.crc import CRC
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "unitree_sdk2py is required for the G1: `pip install unitree-sdk2py-dimos` "
        "(PyPI unitree-sdk2 1.0.1 is broken: no g1 package)"
    ) from exc

from robotracer.robots.g1 import joints as J

TOPIC_LOWSTATE = "rt/lowstate"
TOPIC_LOWCMD = "rt/lowcmd"
TOPIC_ARM_SDK = "rt/arm_sdk"

__all__ = [
    "ChannelFactoryInitialize", "ChannelPublisher", "ChannelSubscriber", "HandCmd_", "HandState_", "LowCmd_",
    "LowState_", "MotorArrays", "TOPIC_ARM_SDK", "TOPIC_LOWCMD", "TOPIC_LOWSTATE", "crc_ok", "dex3_mode",
    "hand_cmd", "hand_cmd_arrays", "init_channels", "lowcmd", "lowcmd_arrays",
]  # fmt: skip

_crc = CRC()
_initialized: tuple[int, str] | None = None


def init_channels(domain_id: int, interface: str = "lo") -> None:
    """``ChannelFactoryInitialize`` once per process (DDS on ``interface``; loopback by default).

    A second call with other settings raises: the SDK's channel factory is a process-wide singleton.
    """
    global _initialized
    if _initialized is None:
        ChannelFactoryInitialize(int(domain_id), interface)
        _initialized = (int(domain_id), interface)
    elif _initialized != (int(domain_id), interface):
        raise RuntimeError(
            f"unitree_sdk2py channels already initialised on domain {_initialized[0]} / {_initialized[1]!r} "
            f"in this process; cannot switch to domain {domain_id} / {interface!r}"
        )


def crc_ok(msg) -> bool:
    """Whether ``msg.crc`` matches the CRC32 the robot computes over the message."""
    return int(msg.crc) == int(_crc.Crc(msg))


@dataclass(frozen=True)
class MotorArrays:
    """Per-motor command fields, ``(n,)`` float64 each; ``mode`` ``(n,)`` int."""

    q: np.ndarray
    dq: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    tau: np.ndarray
    mode: np.ndarray


def lowcmd(
    q: np.ndarray,
    kp: np.ndarray,
    kd: np.ndarray,
    dq: np.ndarray | None = None,
    tau: np.ndarray | None = None,
    enabled: np.ndarray | None = None,
    arm_sdk_weight: float | None = None,
    mode_machine: int = 0,
) -> LowCmd_:
    """A CRC-stamped ``LowCmd_`` for the 29 body motors (``(29,)`` arrays, motor order).

    ``arm_sdk_weight`` (for ``rt/arm_sdk``) goes into ``motor_cmd[29].q``; ``enabled`` ``(29,)`` bool
    sets each motor's ``mode`` (1 = enabled; all by default).
    """
    n = J.NUM_BODY_MOTORS
    dq = np.zeros(n) if dq is None else dq
    tau = np.zeros(n) if tau is None else tau
    enabled = np.ones(n, dtype=bool) if enabled is None else enabled
    msg = unitree_hg_msg_dds__LowCmd_()
    msg.mode_pr = 0
    msg.mode_machine = int(mode_machine)
    for i in range(n):
        m = msg.motor_cmd[i]
        m.mode = 1 if enabled[i] else 0
        m.q, m.dq, m.kp, m.kd, m.tau = float(q[i]), float(dq[i]), float(kp[i]), float(kd[i]), float(tau[i])
    if arm_sdk_weight is not None:
        msg.motor_cmd[J.ARM_SDK_WEIGHT_SLOT].q = float(np.clip(arm_sdk_weight, 0.0, 1.0))
    msg.crc = _crc.Crc(msg)
    return msg


def lowcmd_arrays(msg: LowCmd_, n: int = J.NUM_BODY_MOTORS) -> MotorArrays:
    """The first ``n`` motor commands of a ``LowCmd_`` as arrays."""
    cmds = msg.motor_cmd[:n]
    return MotorArrays(
        np.array([c.q for c in cmds]), np.array([c.dq for c in cmds]), np.array([c.kp for c in cmds]),
        np.array([c.kd for c in cmds]), np.array([c.tau for c in cmds]), np.array([c.mode for c in cmds], dtype=int),
    )  # fmt: skip


def arm_sdk_weight(msg: LowCmd_) -> float:
    """The arm-SDK blend weight carried in ``motor_cmd[29].q``, clipped to [0, 1]."""
    return float(np.clip(msg.motor_cmd[J.ARM_SDK_WEIGHT_SLOT].q, 0.0, 1.0))


def dex3_mode(motor: int, enabled: bool = True, timeout: bool = False) -> int:
    """Dex3 ``mode`` byte: motor id (4 bits), status (1 = enabled, 3 bits), timeout (1 bit)."""
    return (motor & 0x0F) | ((1 if enabled else 0) & 0x07) << 4 | (1 if timeout else 0) << 7


def dex3_enabled(mode: int) -> bool:
    return bool((int(mode) >> 4) & 0x07)


def hand_cmd(q: np.ndarray, kp: np.ndarray = J.HAND_KP, kd: np.ndarray = J.HAND_KD) -> HandCmd_:
    """A Dex3 ``HandCmd_`` holding the 7 joints (Dex3 order) at ``q`` ``(7,)``."""
    msg = unitree_hg_msg_dds__HandCmd_()
    for i in range(7):
        m = msg.motor_cmd[i]
        m.mode = dex3_mode(i)
        m.q, m.dq, m.kp, m.kd, m.tau = float(q[i]), 0.0, float(kp[i]), float(kd[i]), 0.0
    return msg


def hand_cmd_arrays(msg: HandCmd_) -> MotorArrays:
    cmds = list(msg.motor_cmd)[:7]
    if len(cmds) != 7:
        raise ValueError(f"a Dex3 HandCmd_ carries 7 motor commands, got {len(cmds)}")
    return MotorArrays(
        np.array([c.q for c in cmds]), np.array([c.dq for c in cmds]), np.array([c.kp for c in cmds]),
        np.array([c.kd for c in cmds]), np.array([c.tau for c in cmds]),
        np.array([1 if dex3_enabled(c.mode) else 0 for c in cmds], dtype=int),
    )  # fmt: skip


def new_lowstate() -> LowState_:
    return unitree_hg_msg_dds__LowState_()


def new_hand_state() -> HandState_:
    return unitree_hg_msg_dds__HandState_()


def stamp_crc(msg) -> None:
    """Set ``msg.crc`` (LowCmd_ / LowState_)."""
    msg.crc = _crc.Crc(msg)
