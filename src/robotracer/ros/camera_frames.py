"""A node's own view of the camera topics: frames kept serialised, matched by stamp, decoded on use.

Every stage that needs pixels (task server, tracer, lifter) subscribes to the camera itself and
names frames by their stamp, so a 640x480 RGB-D frame (about 2.7 MB with segmentation) is not
copied into every service request. Subscriptions are *raw*: a message stays in its serialised form
(one copy out of DDS, no conversion to Python objects) until a goal asks for that frame; the
stamp is read straight from the serialised header.
"""

from __future__ import annotations

import struct
import threading

from robotracer.pipeline.frame_sync import FrameSynchronizer, SyncedFrame

# CDR encapsulation ids whose body starts with the message's first field at byte 4:
# CDR_BE, CDR_LE, PLAIN_CDR2_BE, PLAIN_CDR2_LE -> byte order of the body
_PLAIN_ENCAPSULATIONS = {0x0000: ">", 0x0001: "<", 0x0006: ">", 0x0007: "<"}


def header_stamp_of_serialized(raw: bytes, msg_type) -> float:
    """Stamp (seconds) of a serialised message whose first field is ``std_msgs/Header``.

    Reads the two stamp integers straight from plain CDR; other encapsulations are decoded in full.
    """
    if len(raw) >= 12:
        order = _PLAIN_ENCAPSULATIONS.get(int.from_bytes(raw[:2], "big"))
        if order is not None:
            sec, nanosec = struct.unpack_from(order + "iI", raw, 4)
            return sec + nanosec * 1e-9
    from rclpy.serialization import deserialize_message

    stamp = deserialize_message(raw, msg_type).header.stamp
    return stamp.sec + stamp.nanosec * 1e-9


class CameraFrame:
    """One RGB-D capture held serialised; :meth:`message` decodes a stream once, on first use."""

    def __init__(self, synced: SyncedFrame, types: dict) -> None:
        self.stamp = synced.stamp
        self.received_wall = synced.received_wall
        self._raw = synced.parts
        self._types = types
        self._decoded: dict = {}
        self._lock = threading.Lock()

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
    service callback may wait for one.
    """

    def __init__(self, node, required=("rgb", "depth", "info"), optional=("segmentation",), labels: bool = False, keep: int = 8) -> None:
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
        self.thread = SubscriptionThread(node, "camera")
        for stream, typ in self._types.items():
            self.thread.create_subscription(
                typ, self.topics[stream], lambda raw, s=stream, t=typ: self._sync.add(s, header_stamp_of_serialized(raw, t), raw),
                qos_profile_sensor_data, raw=True,
            )
        if labels:
            latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
            self.thread.create_subscription(LabelMap, topics.SEGMENTATION_LABELS, self._on_labels, latched)

    def _on_labels(self, msg) -> None:
        self.labels = msg

    def latest(self, prefer: tuple[str, ...] = ()) -> CameraFrame | None:
        """The newest complete frame (see :meth:`FrameSynchronizer.latest`)."""
        synced = self._sync.latest(prefer=prefer)
        return None if synced is None else CameraFrame(synced, self._types)

    def wait_for(self, stamp: float, timeout: float, prefer: tuple[str, ...] = ()) -> CameraFrame | None:
        """The frame captured at ``stamp``, waiting up to ``timeout`` s; None when this node never got it."""
        synced = self._sync.wait_for(stamp, timeout, prefer)
        return None if synced is None else CameraFrame(synced, self._types)
