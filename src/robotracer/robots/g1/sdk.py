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


# -- wire format ---------------------------------------------------------------------------------
# LowState_ and LowCmd_ are fixed-size IDL structs. Building them field by field in Python and
# serialising them with pycdr2 costs ~2 ms a message, the whole budget of the robot's 500 Hz loop;
# the codecs below fill numpy structured arrays laid out as the SDK's C structs instead, CRC them
# with the SDK's own C routine and cut the XCDR1 payload out of them (the two layouts differ only
# in padding before the first motor). The payloads are byte-identical to ``msg.serialize()``.
_CDR_HEADER = b"\x00\x01\x00\x00"  # XCDR1, little endian: what pycdr2 writes for these final structs

_IMU_STATE = np.dtype({
    "names": ["quaternion", "gyroscope", "accelerometer", "rpy", "temperature"],
    "formats": [("<f4", 4), ("<f4", 3), ("<f4", 3), ("<f4", 3), "<i2"],
    "offsets": [0, 16, 28, 40, 52], "itemsize": 56,
})  # fmt: skip
_MOTOR_STATE = np.dtype({
    "names": ["mode", "q", "dq", "ddq", "tau_est", "temperature", "vol", "sensor", "motorstate", "reserve"],
    "formats": ["u1", "<f4", "<f4", "<f4", "<f4", ("<i2", 2), "<f4", ("<u4", 2), "<u4", ("<u4", 4)],
    "offsets": [0, 4, 8, 12, 16, 20, 24, 28, 36, 40], "itemsize": 56,
})  # fmt: skip
_MOTOR_CMD = np.dtype({
    "names": ["mode", "q", "dq", "tau", "kp", "kd", "reserve"],
    "formats": ["u1", "<f4", "<f4", "<f4", "<f4", "<f4", "<u4"],
    "offsets": [0, 4, 8, 12, 16, 20, 24], "itemsize": 28,
})  # fmt: skip
#: ``unitree_hg::msg::dds_::LowState_`` as the SDK's C struct (what its CRC runs over), 2092 bytes
LOWSTATE_C_DTYPE = np.dtype({
    "names": ["version", "mode_pr", "mode_machine", "tick", "imu_state", "motor_state", "wireless_remote", "reserve", "crc"],
    "formats": [("<u4", 2), "u1", "u1", "<u4", _IMU_STATE, (_MOTOR_STATE, 35), ("u1", 40), ("<u4", 4), "<u4"],
    "offsets": [0, 8, 9, 12, 16, 72, 2032, 2072, 2088], "itemsize": 2092,
})  # fmt: skip
#: ``unitree_hg::msg::dds_::LowCmd_`` as the SDK's C struct, 1004 bytes
LOWCMD_C_DTYPE = np.dtype({
    "names": ["mode_pr", "mode_machine", "motor_cmd", "reserve", "crc"],
    "formats": ["u1", "u1", (_MOTOR_CMD, 35), ("<u4", 4), "<u4"],
    "offsets": [0, 1, 4, 984, 1000], "itemsize": 1004,
})  # fmt: skip
# where the XCDR1 body leaves out 4 of the C struct's padding bytes: C [gap, gap+2) before the first
# motor and [gap+4, gap+6) after its mode byte
_LOWSTATE_GAP, _LOWCMD_GAP = 70, 2


def _padding_mask(dtype: np.dtype) -> np.ndarray:
    """``(itemsize,)`` bool: the bytes of a C struct that belong to no field (zero in the SDK's packing)."""
    covered = np.zeros(dtype.itemsize, dtype=bool)

    def mark(dt: np.dtype, base: int) -> None:
        if dt.subdtype is not None:
            sub, shape = dt.subdtype
            for k in range(int(np.prod(shape))):
                mark(sub, base + k * sub.itemsize)
        elif dt.names is not None:
            for name in dt.names:
                field_dt, offset = dt.fields[name][:2]
                mark(field_dt, base + offset)
        else:
            covered[base : base + dt.itemsize] = True

    mark(dtype, 0)
    return ~covered


_PADDING = {LOWSTATE_C_DTYPE: _padding_mask(LOWSTATE_C_DTYPE), LOWCMD_C_DTYPE: _padding_mask(LOWCMD_C_DTYPE)}


def _crc_lib():
    lib = getattr(_crc, "crc_lib", None)  # the SDK's compiled crc32_core (Linux x86_64 / aarch64)
    if lib is None:
        return lambda words: _crc._crc_py(words.tolist())
    import ctypes

    u32p = ctypes.POINTER(ctypes.c_uint32)
    return lambda words: int(lib.crc32_core(words.ctypes.data_as(u32p), len(words)))


_crc32_words = _crc_lib()


def struct_crc(c_struct: np.ndarray) -> int:
    """The robot's CRC of a C-layout struct (0-d array of :data:`LOWSTATE_C_DTYPE` / :data:`LOWCMD_C_DTYPE`):
    CRC32 over its 32-bit little-endian words, all but the trailing ``crc``, as ``CRC().Crc(msg)``."""
    words = np.frombuffer(c_struct.tobytes(), dtype="<u4")[:-1]
    return _crc32_words(np.ascontiguousarray(words))


def _c_to_cdr(c_bytes: bytes, gap: int) -> bytes:
    return _CDR_HEADER + c_bytes[:gap] + c_bytes[gap + 2 : gap + 4] + c_bytes[gap + 6 :]


def _cdr_to_c(payload: bytes, dtype: np.dtype, gap: int) -> np.ndarray:
    """0-d C-layout struct from a serialized sample, padding bytes zeroed (as the SDK packs them)."""
    body = memoryview(payload)[4:]
    if payload[:4] != _CDR_HEADER or len(body) != dtype.itemsize - 4:
        raise ValueError(
            f"not an XCDR1 little-endian {dtype.itemsize - 4}-byte sample of this type "
            f"(header {bytes(payload[:4]).hex()}, {len(body)} bytes)"
        )
    raw = np.zeros(dtype.itemsize, dtype=np.uint8)
    raw[:gap] = body[:gap]
    raw[gap + 2 : gap + 4] = body[gap : gap + 2]
    raw[gap + 6 :] = body[gap + 2 :]
    raw[_PADDING[dtype]] = 0
    return raw.view(dtype).reshape(())


@dataclass(frozen=True)
class LowStateArrays:
    """The fields of ``rt/lowstate`` the stack reads: ``q``, ``dq``, ``tau`` ``(29,)`` float64 (motor order);
    IMU ``quaternion`` ``(4,)`` (w, x, y, z), ``rpy``, ``gyroscope``, ``accelerometer`` ``(3,)``; ``tick`` ms; ``crc_ok``."""

    q: np.ndarray
    dq: np.ndarray
    tau: np.ndarray
    quaternion: np.ndarray
    rpy: np.ndarray
    gyroscope: np.ndarray
    accelerometer: np.ndarray
    tick: int
    crc_ok: bool


class LowStateEncoder:
    """Builds serialized, CRC-stamped ``rt/lowstate`` samples from arrays (for :class:`RawPublisher`)."""

    def __init__(self) -> None:
        self._c = np.zeros((), dtype=LOWSTATE_C_DTYPE)

    def encode(
        self, q: np.ndarray, dq: np.ndarray, tau: np.ndarray, quaternion: np.ndarray, rpy: np.ndarray,
        gyroscope: np.ndarray, accelerometer: np.ndarray, tick: int, mode: int = 1,
    ) -> bytes:  # fmt: skip
        """The sample for the first ``len(q)`` motors (``(n,)`` each) and the pelvis IMU (``(4,)`` / ``(3,)``)."""
        c, n = self._c, len(q)
        motors = c["motor_state"]
        motors["mode"][:n] = mode
        motors["q"][:n], motors["dq"][:n], motors["tau_est"][:n] = q, dq, tau
        imu = c["imu_state"]
        imu["quaternion"], imu["rpy"], imu["gyroscope"], imu["accelerometer"] = quaternion, rpy, gyroscope, accelerometer
        c["tick"] = int(tick) & 0xFFFFFFFF
        c["crc"] = struct_crc(c)
        return _c_to_cdr(c.tobytes(), _LOWSTATE_GAP)


def decode_lowstate(payload: bytes, n: int = J.NUM_BODY_MOTORS) -> LowStateArrays:
    """Arrays of a serialized ``LowState_`` (first ``n`` motors), with its CRC checked as :func:`crc_ok` does."""
    c = _cdr_to_c(payload, LOWSTATE_C_DTYPE, _LOWSTATE_GAP)
    ms, imu = c["motor_state"][:n], c["imu_state"]
    f64 = lambda a: np.asarray(a, dtype=np.float64)  # noqa: E731
    return LowStateArrays(
        f64(ms["q"]), f64(ms["dq"]), f64(ms["tau_est"]), f64(imu["quaternion"]), f64(imu["rpy"]),
        f64(imu["gyroscope"]), f64(imu["accelerometer"]), int(c["tick"]), int(c["crc"]) == struct_crc(c),
    )  # fmt: skip


def encode_lowcmd(
    q: np.ndarray, kp: np.ndarray, kd: np.ndarray, dq: np.ndarray | None = None, tau: np.ndarray | None = None,
    enabled: np.ndarray | None = None, arm_sdk_weight: float | None = None, mode_machine: int = 0,
) -> bytes:  # fmt: skip
    """The serialized form of :func:`lowcmd` with the same arguments, byte for byte, without building a ``LowCmd_``."""
    n = len(q)
    c = np.zeros((), dtype=LOWCMD_C_DTYPE)
    c["mode_machine"] = mode_machine
    m = c["motor_cmd"]
    m["mode"][:n] = 1 if enabled is None else np.asarray(enabled, dtype=bool)
    m["q"][:n], m["kp"][:n], m["kd"][:n] = q, kp, kd
    if dq is not None:
        m["dq"][:n] = dq
    if tau is not None:
        m["tau"][:n] = tau
    if arm_sdk_weight is not None:
        m["q"][J.ARM_SDK_WEIGHT_SLOT] = np.clip(arm_sdk_weight, 0.0, 1.0)
    c["crc"] = struct_crc(c)
    return _c_to_cdr(c.tobytes(), _LOWCMD_GAP)


def decode_lowcmd(payload: bytes, n: int = J.NUM_BODY_MOTORS) -> tuple[MotorArrays, float, bool]:
    """A serialized ``LowCmd_``: its first ``n`` motor commands (as :func:`lowcmd_arrays`), the arm-SDK
    weight (as :func:`arm_sdk_weight`) and whether its CRC matches (as :func:`crc_ok`)."""
    c = _cdr_to_c(payload, LOWCMD_C_DTYPE, _LOWCMD_GAP)
    m = c["motor_cmd"]
    f64 = lambda a: np.asarray(a[:n], dtype=np.float64)  # noqa: E731
    arrays = MotorArrays(f64(m["q"]), f64(m["dq"]), f64(m["kp"]), f64(m["kd"]), f64(m["tau"]), m["mode"][:n].astype(int))
    weight = float(np.clip(m["q"][J.ARM_SDK_WEIGHT_SLOT], 0.0, 1.0))
    return arrays, weight, int(c["crc"]) == struct_crc(c)


class HandStateEncoder:
    """Serialized Dex3 ``HandState_`` samples with the 7 motors' ``q`` / ``dq`` set (everything else default).

    ``HandState_`` holds sequences, so its layout comes from one pycdr2 serialisation of the default
    message (7 motor states first: a 4-byte count, then 56 bytes each); each sample patches that.
    """

    def __init__(self) -> None:
        self._buf = bytearray(new_hand_state().serialize())
        self._motors = np.ndarray((7,), dtype=_MOTOR_STATE, buffer=self._buf, offset=8)

    def encode(self, q: np.ndarray, dq: np.ndarray) -> bytes:
        """``q``, ``dq``: ``(7,)`` Dex3 order."""
        self._motors["q"], self._motors["dq"] = q, dq
        return bytes(self._buf)


def decode_hand_state_q(payload: bytes) -> np.ndarray:
    """``(k,)`` float64 joint angles of the motor states of a serialized ``HandState_`` (Dex3: k = 7)."""
    count = int(np.frombuffer(payload, dtype="<u4", count=1, offset=4)[0])
    motors = np.frombuffer(payload, dtype=_MOTOR_STATE, count=count, offset=8)
    return motors["q"].astype(np.float64)


# -- channels of serialized samples --------------------------------------------------------------
_participant = None


def _raw_participant():
    """A participant of this process's SDK domain (after :func:`init_channels`) for the raw channels."""
    global _participant
    if _initialized is None:
        raise RuntimeError("call robotracer.robots.g1.sdk.init_channels(domain_id, interface) before opening channels")
    if _participant is None:
        from cyclonedds.domain import DomainParticipant

        _participant = DomainParticipant(_initialized[0])  # joins the domain the SDK configured (interface)
    return _participant


class RawPublisher:
    """Publishes serialized samples of an SDK message type on a topic, with the SDK's default QoS.

    Readers see exactly what ``ChannelPublisher(topic, data_type).Write(msg)`` would send for a sample
    whose ``msg.serialize()`` is the payload (see :class:`LowStateEncoder`, :func:`encode_lowcmd`).
    """

    def __init__(self, topic: str, data_type: type) -> None:
        from cyclonedds.pub import DataWriter
        from cyclonedds.topic import Topic

        participant = _raw_participant()
        self._topic = Topic(participant, topic, data_type)
        self._writer = DataWriter(participant, self._topic)

    def write(self, payload: bytes) -> None:
        from cyclonedds._clayer import ddspy_write  # what DataWriter.write calls after serialising
        from cyclonedds.core import DDSException

        ret = ddspy_write(self._writer._ref, payload)
        if ret < 0:
            raise DDSException(ret, f"writing a serialized sample on {self._topic.name}")

    def close(self) -> None:
        self._writer = self._topic = None  # cyclonedds deletes entities with their last reference


class RawSubscriber:
    """Hands each serialized sample received on a topic to ``handler(payload: bytes)`` (in the DDS listener
    thread: keep it short), with the SDK's default QoS. Decode with :func:`decode_lowstate`, :func:`decode_lowcmd`..."""

    def __init__(self, topic: str, data_type: type, handler) -> None:
        from cyclonedds.core import Listener
        from cyclonedds.sub import DataReader
        from cyclonedds.topic import Topic

        participant = _raw_participant()
        self._handler = handler
        self._topic = Topic(participant, topic, data_type)
        self._reader = DataReader(participant, self._topic, listener=Listener(on_data_available=self._on_data))

    def _on_data(self, reader) -> None:
        from cyclonedds._clayer import ddspy_take  # what DataReader.take calls before deserialising
        from cyclonedds.core import InstanceState, SampleState, ViewState

        samples = ddspy_take(reader._ref, SampleState.Any | ViewState.Any | InstanceState.Any, 16)
        if isinstance(samples, int):
            return  # an error code: nothing to hand over
        for payload, info in samples:
            if info.valid_data:
                self._handler(payload)

    def close(self) -> None:
        if self._reader is not None:
            self._reader.set_listener(None)
        self._reader = self._topic = None
