"""Messages <-> core types. The only place that knows both worlds; tested by building messages, no ROS graph."""

from __future__ import annotations

import math

import numpy as np
from builtin_interfaces.msg import Time as TimeMsg
from geometry_msgs.msg import Point, Pose, PoseStamped
from nav_msgs.msg import Path
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import ColorRGBA, Header
from visualization_msgs.msg import Marker, MarkerArray

from robotracer.geometry.camera import Intrinsics
from robotracer.geometry.transforms import RigidTransform
from robotracer.msg import LabelMap, SpatialTrace, StageTiming, TracePoint
from robotracer.trace.types import CoordinateConvention, Trace, Trace3D

# encoding -> (numpy dtype, channels)
_ENCODINGS = {
    "rgb8": (np.uint8, 3),
    "bgr8": (np.uint8, 3),
    "mono8": (np.uint8, 1),
    "32FC1": (np.float32, 1),
    "16UC1": (np.uint16, 1),
    "mono16": (np.uint16, 1),
}


class ConversionError(ValueError):
    """A message cannot be turned into the core type (wrong encoding, size mismatch, ...)."""


# ---------------------------------------------------------------- time
def seconds_to_time(t: float) -> TimeMsg:
    sec = math.floor(t)
    return TimeMsg(sec=int(sec), nanosec=int(round((t - sec) * 1e9)) % 1_000_000_000)


def time_to_seconds(stamp: TimeMsg) -> float:
    return stamp.sec + stamp.nanosec * 1e-9


# ---------------------------------------------------------------- images
def numpy_to_image(array: np.ndarray, encoding: str, header: Header | None = None) -> Image:
    """``(H, W[, C])`` array -> ``sensor_msgs/Image`` with the given encoding."""
    if encoding not in _ENCODINGS:
        raise ConversionError(f"unsupported encoding {encoding!r}; supported: {', '.join(_ENCODINGS)}")
    dtype, channels = _ENCODINGS[encoding]
    arr = np.ascontiguousarray(array, dtype=dtype)
    if (arr.ndim == 2 and channels != 1) or (arr.ndim == 3 and arr.shape[2] != channels) or arr.ndim not in (2, 3):
        raise ConversionError(f"array of shape {array.shape} does not fit encoding {encoding}")
    msg = Image()
    if header is not None:
        msg.header = header
    msg.height, msg.width = int(arr.shape[0]), int(arr.shape[1])
    msg.encoding = encoding
    msg.is_bigendian = 0
    msg.step = int(arr.shape[1] * channels * arr.itemsize)
    msg.data = arr.tobytes()
    return msg


def image_encoding_dtype(encoding: str) -> tuple[type, int]:
    """``(numpy dtype, channels)`` of a supported image encoding."""
    if encoding not in _ENCODINGS:
        raise ConversionError(f"unsupported image encoding {encoding!r}; supported: {', '.join(_ENCODINGS)}")
    return _ENCODINGS[encoding]


def image_to_numpy(msg: Image) -> np.ndarray:
    """``sensor_msgs/Image`` -> ``(H, W[, C])`` array (a read-only view of the message data)."""
    if msg.encoding not in _ENCODINGS:
        raise ConversionError(f"unsupported image encoding {msg.encoding!r}; supported: {', '.join(_ENCODINGS)}")
    dtype, channels = _ENCODINGS[msg.encoding]
    dt = np.dtype(dtype).newbyteorder(">" if msg.is_bigendian else "<")
    row = msg.width * channels * dt.itemsize
    buf = np.frombuffer(msg.data, dtype=np.uint8)
    if msg.step < row or buf.size < msg.step * msg.height:
        raise ConversionError(f"image data too short for {msg.width}x{msg.height} {msg.encoding}")
    rows = buf[: msg.step * msg.height].reshape(msg.height, msg.step)[:, :row]
    arr = np.ascontiguousarray(rows).view(dt)
    shape = (msg.height, msg.width) if channels == 1 else (msg.height, msg.width, channels)
    arr = arr.reshape(shape)
    return arr.astype(dtype, copy=False)


# ---------------------------------------------------------------- camera
def intrinsics_to_camera_info(intr: Intrinsics, header: Header | None = None) -> CameraInfo:
    msg = CameraInfo()
    if header is not None:
        msg.header = header
    msg.width, msg.height = intr.width, intr.height
    msg.distortion_model = "plumb_bob"
    msg.d = [0.0] * 5
    msg.k = intr.matrix.reshape(-1).tolist()
    msg.r = np.eye(3).reshape(-1).tolist()
    msg.p = [intr.fx, 0.0, intr.cx, 0.0, 0.0, intr.fy, intr.cy, 0.0, 0.0, 0.0, 1.0, 0.0]
    return msg


def camera_info_to_intrinsics(msg: CameraInfo) -> Intrinsics:
    if msg.width == 0 or msg.height == 0 or msg.k[0] == 0.0:
        raise ConversionError("camera info is empty (no size or focal length)")
    return Intrinsics.from_matrix(np.asarray(msg.k), msg.width, msg.height)


def label_map_to_dict(msg: LabelMap) -> dict[int, str]:
    if len(msg.ids) != len(msg.names):
        raise ConversionError(f"label map has {len(msg.ids)} ids but {len(msg.names)} names")
    return {int(i): str(n) for i, n in zip(msg.ids, msg.names)}


def dict_to_label_map(labels: dict[int, str], source: str, header: Header | None = None) -> LabelMap:
    msg = LabelMap()
    if header is not None:
        msg.header = header
    items = sorted(labels.items())
    msg.ids = [int(i) for i, _ in items]
    msg.names = [n for _, n in items]
    msg.source = source
    return msg


# ---------------------------------------------------------------- traces
def trace_to_msg(
    trace: Trace,
    header: Header | None = None,
    *,
    instruction: str = "",
    source: str = "",
    moved_object: str = "",
    lifted: Trace3D | None = None,
) -> SpatialTrace:
    """A (u, v[, d]) trace, optionally with its lifted positions, as ``robotracer/SpatialTrace``."""
    if lifted is not None and len(lifted) != len(trace):
        raise ConversionError(f"lifted trace has {len(lifted)} points, raw trace {len(trace)}")
    msg = SpatialTrace()
    if header is not None:
        msg.header = header
    if lifted is not None:
        msg.header.frame_id = lifted.frame_id
    msg.instruction, msg.source, msg.moved_object = instruction, source, moved_object
    if trace.image_size is not None:
        msg.image_width, msg.image_height = int(trace.image_size[0]), int(trace.image_size[1])
    uv = trace.uv_normalized()
    depth = trace.depth if trace.has_depth else np.full(len(trace), np.nan)
    for i in range(len(trace)):
        p = TracePoint(u=float(uv[i, 0]), v=float(uv[i, 1]), d=float(depth[i]))
        if lifted is not None:
            x, y, z = lifted.positions[i]
            p.position = Point(x=float(x), y=float(y), z=float(z))
        else:
            p.position = Point(x=math.nan, y=math.nan, z=math.nan)
        msg.points.append(p)
    msg.lifted = lifted is not None
    return msg


def msg_to_trace(msg: SpatialTrace) -> Trace:
    """The raw (u, v[, d]) part of a SpatialTrace."""
    if not msg.points:
        raise ConversionError("spatial trace has no points")
    pts = np.array([[p.u, p.v, p.d] for p in msg.points], dtype=np.float64)
    if np.all(np.isnan(pts[:, 2])):
        pts = pts[:, :2]
    if not np.all(np.isfinite(pts)):
        raise ConversionError("spatial trace has NaN or infinite (u, v, d) values")
    size = (int(msg.image_width), int(msg.image_height)) if msg.image_width and msg.image_height else None
    return Trace(pts, CoordinateConvention.NORMALIZED_1000, size)


def msg_to_trace3d(msg: SpatialTrace) -> Trace3D:
    """The lifted positions of a SpatialTrace (must be lifted and finite)."""
    if not msg.lifted:
        raise ConversionError("spatial trace is not lifted (no 3D positions)")
    if not msg.points:
        raise ConversionError("spatial trace has no points")
    pos = np.array([[p.position.x, p.position.y, p.position.z] for p in msg.points], dtype=np.float64)
    if not np.all(np.isfinite(pos)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(pos), axis=1))[0])
        raise ConversionError(f"lifted trace point {bad} is NaN or infinite")
    return Trace3D(pos, msg.header.frame_id or "base_link")


def timings_to_msgs(timings: dict[str, float]) -> list[StageTiming]:
    return [StageTiming(stage=k, seconds=float(v)) for k, v in timings.items()]


# ---------------------------------------------------------------- visualisation
def trace3d_to_path(trace: Trace3D, header: Header) -> Path:
    path = Path()
    path.header = header
    path.header.frame_id = trace.frame_id
    for x, y, z in trace.positions:
        ps = PoseStamped()
        ps.header = path.header
        ps.pose = Pose()
        ps.pose.position = Point(x=float(x), y=float(y), z=float(z))
        ps.pose.orientation.w = 1.0
        path.poses.append(ps)
    return path


def trace3d_to_markers(trace: Trace3D, header: Header, ns: str = "trace") -> MarkerArray:
    """A line strip through the waypoints plus a sphere per waypoint (green start, red end)."""
    header = Header(stamp=header.stamp, frame_id=trace.frame_id)
    points = [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in trace.positions]
    line = Marker(header=header, ns=ns, id=0, type=Marker.LINE_STRIP, action=Marker.ADD)
    line.pose.orientation.w = 1.0
    line.scale.x = 0.006
    line.color = ColorRGBA(r=1.0, g=0.8, b=0.1, a=1.0)
    line.points = points
    spheres = Marker(header=header, ns=ns, id=1, type=Marker.SPHERE_LIST, action=Marker.ADD)
    spheres.pose.orientation.w = 1.0
    spheres.scale.x = spheres.scale.y = spheres.scale.z = 0.02
    spheres.points = points
    n = len(points)
    spheres.colors = [
        ColorRGBA(r=float(i / max(n - 1, 1)), g=float(1 - i / max(n - 1, 1)), b=0.2, a=1.0) for i in range(n)
    ]
    return MarkerArray(markers=[line, spheres])


def poses_to_markers(poses: dict[str, tuple[np.ndarray, np.ndarray]], header: Header, ns: str = "objects") -> MarkerArray:
    """Named object poses (position, quaternion wxyz) as text-labelled markers; ``text`` holds the name."""
    arr = MarkerArray()
    for i, (name, (pos, quat)) in enumerate(sorted(poses.items())):
        m = Marker(header=header, ns=ns, id=i, type=Marker.SPHERE, action=Marker.ADD, text=name)
        m.pose.position = Point(x=float(pos[0]), y=float(pos[1]), z=float(pos[2]))
        m.pose.orientation.w, m.pose.orientation.x = float(quat[0]), float(quat[1])
        m.pose.orientation.y, m.pose.orientation.z = float(quat[2]), float(quat[3])
        m.scale.x = m.scale.y = m.scale.z = 0.03
        m.color = ColorRGBA(r=0.2, g=0.6, b=1.0, a=0.8)
        arr.markers.append(m)
    return arr


def markers_to_poses(msg: MarkerArray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    out = {}
    for m in msg.markers:
        p, q = m.pose.position, m.pose.orientation
        out[m.text] = (np.array([p.x, p.y, p.z]), np.array([q.w, q.x, q.y, q.z]))
    return out


def joint_state(names: list[str], positions, velocities=None, stamp: TimeMsg | None = None) -> JointState:
    msg = JointState()
    if stamp is not None:
        msg.header.stamp = stamp
    msg.name = list(names)
    msg.position = [float(x) for x in positions]
    if velocities is not None:
        msg.velocity = [float(x) for x in velocities]
    return msg


def transform_from_params(xyz, rpy) -> RigidTransform:
    return RigidTransform.from_xyz_rpy(np.asarray(xyz, dtype=float), np.asarray(rpy, dtype=float))


def seconds_to_duration(t: float):
    from builtin_interfaces.msg import Duration

    sec = math.floor(t)
    return Duration(sec=int(sec), nanosec=int(round((t - sec) * 1e9)) % 1_000_000_000)


def joint_trajectory(names: list[str], times: np.ndarray, positions: np.ndarray):
    """``trajectory_msgs/JointTrajectory`` of ``(K,)`` times (s from start) and ``(K, J)`` positions."""
    from trajectory_msgs.msg import JointTrajectory, JointTrajectoryPoint

    traj = JointTrajectory(joint_names=list(names))
    for t, q in zip(times, positions):
        traj.points.append(JointTrajectoryPoint(positions=[float(x) for x in q], time_from_start=seconds_to_duration(float(t))))
    return traj
