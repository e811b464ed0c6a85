"""A node's own view of the camera topics: frames kept serialised, matched by stamp, decoded on use.

Every stage that needs pixels (task server, tracer, lifter) subscribes to the camera itself and
names frames by their stamp, so a 640x480 RGB-D frame (about 2.7 MB with segmentation) is not
copied into every service request. Subscriptions are *raw*: a message stays in its serialised form
(one copy out of DDS, no conversion to Python objects) until a goal asks for that frame; the
stamp is read straight from the serialised header, and an image's pixels are a numpy view of
the serialised bytes (no copy). Frames are keyed by their stamp in integer nanoseconds, so a
camera's wall-clock stamps match exactly across nodes.
"""

from __future__ import annotations

import struct
import threading
from typing import Callable

import numpy as np

from robotracer.pipeline.frame_sync import FrameSynchronizer, SyncedFrame

# CDR encapsulation ids whose body starts with the message's first field at byte 4:
# CDR_BE, CDR_LE, PLAIN_CDR2_BE, PLAIN_CDR2_LE -> byte order of the body
_PLAIN_ENCAPSULATIONS = {0x0000: ">", 0x0001: "<", 0x0006: ">", 0x0007: "<"}


def stamp_ns(sec: int, nanosec: int) -> int:
    """A ``builtin_interfaces/Time`` as integer nanoseconds (the frame key)."""
    return int(sec) * 1_000_000_000 + int(nanosec)


def time_of_ns(ns: int):
    """Integer nanoseconds -> ``builtin_interfaces/Time`` (exact)."""
    from builtin_interfaces.msg import Time

    return Time(sec=int(ns // 1_000_000_000), nanosec=int(ns % 1_000_000_000))


def header_stamp_of_serialized(raw: bytes, msg_type) -> int:
    """Stamp (integer nanoseconds) of a serialised message whose first field is ``std_msgs/Header``.

    Reads the two stamp integers straight from plain CDR; other encapsulations are decoded in full.
    """
    if len(raw) >= 12:
        order = _PLAIN_ENCAPSULATIONS.get(int.from_bytes(raw[:2], "big"))
        if order is not None:
            return stamp_ns(*struct.unpack_from(order + "iI", raw, 4))
    from rclpy.serialization import deserialize_message

    stamp = deserialize_message(raw, msg_type).header.stamp
    return stamp_ns(stamp.sec, stamp.nanosec)


def image_of_serialized(raw: bytes) -> tuple[np.ndarray, str] | None:
    """``(pixels, frame_id)`` of a serialised ``sensor_msgs/Image`` in plain CDR, the pixels a read-only
    ``(H, W[, C])`` view of ``raw``; None for an encapsulation it does not read (decode it instead).

    Raises:
        ConversionError: unsupported encoding, or data shorter than height x step.
    """
    from robotracer.ros.conversions import ConversionError, image_encoding_dtype

    order = _PLAIN_ENCAPSULATIONS.get(int.from_bytes(raw[:2], "big")) if len(raw) >= 12 else None
    if order is None:
        return None
    body = memoryview(raw)[4:]
    pos = 8  # after the stamp

    def u32() -> int:
        nonlocal pos
        pos = (pos + 3) & ~3
        (value,) = struct.unpack_from(order + "I", body, pos)
        pos += 4
        return value

    def string() -> str:
        nonlocal pos
        n = u32()
        text = bytes(body[pos : pos + n]).rstrip(b"\0").decode()
        pos += n
        return text

    frame_id = string()
    height, width = u32(), u32()
    encoding = string()
    big_endian = body[pos] != 0
    pos += 1
    step, size = u32(), u32()
    dtype, channels = image_encoding_dtype(encoding)
    dt = np.dtype(dtype).newbyteorder(">" if big_endian else "<")
    row = width * channels * dt.itemsize
    if step < row or size < step * height or pos + step * height > len(body):
        raise ConversionError(f"image data too short for {width}x{height} {encoding}")
    rows = np.frombuffer(body, dtype=np.uint8, count=step * height, offset=pos).reshape(height, step)[:, :row]
    pixels = rows.view(dt) if step == row else np.ascontiguousarray(rows).view(dt)
    shape = (height, width) if channels == 1 else (height, width, channels)
    return pixels.reshape(shape).astype(dtype, copy=False), frame_id


class CameraFrame:
    """One RGB-D capture held serialised; :meth:`message` decodes a stream once, on first use."""

    def __init__(self, synced: SyncedFrame, types: dict) -> None:
        self.stamp_ns = int(synced.stamp)
        self.stamp = self.stamp_ns * 1e-9  # seconds, for ages
        self.received_wall = synced.received_wall
        self._raw = synced.parts
        self._types = types
        self._decoded: dict = {}
        self._lock = threading.RLock()

    def has(self, stream: str) -> bool:
        return stream in self._raw

    def message(self, stream: str):
        """The stream's message (``sensor_msgs/Image`` / ``CameraInfo``), or None when the frame lacks it."""
        if stream not in self._raw:
            return None
        with self._lock:
            if stream not in self._decoded:
                from rclpy.serialization import deserialize_message

                self._decoded[stream] = deserialize_message(self._raw[stream], self._types[stream])
            return self._decoded[stream]

    @property
    def time(self):
        """The capture stamp as ``builtin_interfaces/Time`` (exact)."""
        return time_of_ns(self.stamp_ns)

    def header(self, stream: str):
        """``std_msgs/Header`` of an image stream (its exact stamp and frame id)."""
        from std_msgs.msg import Header

        return Header(stamp=self.time, frame_id=self.image(stream)[1])

    def image(self, stream: str) -> tuple[np.ndarray, str] | None:
        """``(pixels, frame_id)`` of an image stream, the pixels read in place from the serialised
        message (decoded in full only for an encapsulation that cannot be); None when absent."""
        if stream not in self._raw:
            return None
        with self._lock:
            key = ("image", stream)
            if key not in self._decoded:
                found = image_of_serialized(self._raw[stream])
                if found is None:
                    from robotracer.ros.conversions import image_to_numpy

                    msg = self.message(stream)
                    found = (image_to_numpy(msg), msg.header.frame_id)
                self._decoded[key] = found
            return self._decoded[key]

    def array(self, stream: str) -> np.ndarray | None:
        """The pixels of an image stream (see :meth:`image`); None when the frame lacks it."""
        found = self.image(stream)
        return None if found is None else found[0]

    def __getitem__(self, stream: str):
        msg = self.message(stream)
        if msg is None:
            raise KeyError(stream)
        return msg

    def get(self, stream: str, default=None):
        msg = self.message(stream)
        return default if msg is None else msg


class CameraSubscriptions:
    """Raw subscriptions to the camera topics of :mod:`robotracer.ros.topics`, paired by stamp.

    ``required``/``optional``: stream names among ``rgb``, ``depth``, ``info``, ``segmentation``.
    With ``labels=True`` the latched segmentation ``LabelMap`` is followed too (:attr:`labels`).
    The subscriptions live on a :class:`~robotracer.ros.subscription_thread.SubscriptionThread`
    (node ``<node>_camera``): frames keep arriving while the node's own callbacks run, so a
    service callback may wait for one. ``on_message(stream, stamp_ns)`` is called on that thread
    after each message is filed (keep it short).
    """

    def __init__(
        self,
        node,
        required=("rgb", "depth", "info"),
        optional=("segmentation",),
        labels: bool = False,
        keep: int = 8,
        on_message: Callable[[str, int], None] | None = None,
    ) -> None:
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
        from sensor_msgs.msg import CameraInfo, Image

        from robotracer.msg import LabelMap
        from robotracer.ros import topics
        from robotracer.ros.subscription_thread import SubscriptionThread

        streams = {
            "rgb": (topics.COLOR_IMAGE, Image),
            "depth": (topics.DEPTH_IMAGE, Image),
            "info": (topics.CAMERA_INFO, CameraInfo),
            "segmentation": (topics.SEGMENTATION_IMAGE, Image),
        }
        unknown = [s for s in (*required, *optional) if s not in streams]
        if unknown:
            raise KeyError(f"unknown camera streams {unknown}; streams: {', '.join(streams)}")
        self.topics = {s: streams[s][0] for s in (*required, *optional)}
        self._types = {s: streams[s][1] for s in (*required, *optional)}
        self._sync = FrameSynchronizer(list(required), optional=list(optional), keep=keep)
        self.labels = None
        self._on_message = on_message
        self.thread = SubscriptionThread(node, "camera")
        for stream, typ in self._types.items():
            self.thread.create_subscription(
                typ, self.topics[stream], lambda raw, s=stream, t=typ: self._on_raw(s, t, raw), qos_profile_sensor_data, raw=True
            )
        if labels:
            latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
            self.thread.create_subscription(LabelMap, topics.SEGMENTATION_LABELS, self._on_labels, latched)

    def _on_raw(self, stream: str, msg_type, raw: bytes) -> None:
        stamp = header_stamp_of_serialized(raw, msg_type)
        self._sync.add(stream, stamp, raw)
        if self._on_message is not None:
            self._on_message(stream, stamp)

    def _on_labels(self, msg) -> None:
        self.labels = msg

    def latest(self, prefer: tuple[str, ...] = ()) -> CameraFrame | None:
        """The newest complete frame (see :meth:`FrameSynchronizer.latest`)."""
        synced = self._sync.latest(prefer=prefer)
        return None if synced is None else CameraFrame(synced, self._types)

    def wait_for(self, stamp, timeout: float, prefer: tuple[str, ...] = ()) -> CameraFrame | None:
        """The frame captured at ``stamp`` (``builtin_interfaces/Time``), waiting up to ``timeout`` s;
        None when this node never got it."""
        synced = self._sync.wait_for(stamp_ns(stamp.sec, stamp.nanosec), timeout, prefer)
        return None if synced is None else CameraFrame(synced, self._types)
