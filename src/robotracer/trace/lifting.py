"""Lift a 2.5D trace to 3D: back-project with the intrinsics, then transform to the robot's base frame.

As on the paper's robots, the *observed* depth is used at the start (grasp) and end
(place) points, the model's depth for the mid-air waypoints in between. An endpoint whose
observed depth disagrees with the trace's by more than ``endpoint_tolerance`` keeps the
trace's depth: the ray through it sees something behind the point (an object-centric end
point held above the table sees the table top behind it), and snapping to that surface
would move the point by many centimetres.
"""

from __future__ import annotations

import numpy as np

from robotracer.geometry.camera import Intrinsics
from robotracer.geometry.transforms import RigidTransform
from robotracer.trace.types import Trace, Trace3D


class LiftError(ValueError):
    """The trace cannot be lifted (no depth, holes in the observed depth, ...)."""


def back_project_trace(trace: Trace, intrinsics: Intrinsics, depth: np.ndarray | None = None) -> np.ndarray:
    """``(N, 3)`` points in the camera optical frame, by the official evaluation's formula.

    ``X = (u/1000·W − cx)·d/fx``, ``Y = (v/1000·H − cy)·d/fy``, ``Z = d``.
    ``depth`` overrides the trace's own depth, ``(N,)`` metres.
    """
    d = trace.depth if depth is None else np.asarray(depth, dtype=np.float64)
    if d is None:
        raise LiftError("a 2D trace has no depth: lifting needs (u, v, d) points or observed depth")
    pixels = trace.uv_pixels(intrinsics.width, intrinsics.height)
    return intrinsics.back_project(pixels, d)


def observed_depth_at(depth_image: np.ndarray, pixel: np.ndarray, window: int = 5) -> float | None:
    """Median of the valid (finite, > 0) depth in a ``window``x``window`` patch; None if all are holes."""
    h, w = depth_image.shape[:2]
    c, r = int(round(float(pixel[0]))), int(round(float(pixel[1])))
    c, r = min(max(c, 0), w - 1), min(max(r, 0), h - 1)
    k = window // 2
    patch = depth_image[max(r - k, 0) : r + k + 1, max(c - k, 0) : c + k + 1].astype(np.float64)
    valid = patch[np.isfinite(patch) & (patch > 0)]
    return float(np.median(valid)) if valid.size else None


def lift_trace(
    trace: Trace,
    intrinsics: Intrinsics,
    T_target_camera: RigidTransform,
    frame_id: str,
    observed_depth: np.ndarray | None = None,
    endpoint_window: int = 5,
    endpoint_tolerance: float | None = 0.02,
) -> Trace3D:
    """Lift ``trace`` into ``frame_id``.

    Args:
        trace: 2.5D trace (``(u, v, d)``).
        intrinsics: the camera the trace refers to.
        T_target_camera: maps camera optical-frame points into ``frame_id``.
        frame_id: name of the target frame.
        observed_depth: ``(H, W)`` metres; when given, the start and end points use it.
        endpoint_window: patch size for the observed depth median.
        endpoint_tolerance: use the observed depth at an endpoint only when it is within this many
            metres of the trace's depth; None = always use it.

    Raises:
        LiftError: a 2D trace, or holes in the observed depth at the start or end point.
    """
    if not trace.has_depth:
        raise LiftError("a 2D trace has no depth: lifting needs (u, v, d) points")
    d = trace.depth.copy()
    if observed_depth is not None:
        if observed_depth.shape[:2] != (intrinsics.height, intrinsics.width):
            raise LiftError(
                f"depth image is {observed_depth.shape[1]}x{observed_depth.shape[0]} "
                f"but the camera info says {intrinsics.width}x{intrinsics.height}"
            )
        pixels = trace.uv_pixels(intrinsics.width, intrinsics.height)
        for idx, name in ((0, "start"), (len(trace) - 1, "end")):
            z = observed_depth_at(observed_depth, pixels[idx], endpoint_window)
            if z is None:
                raise LiftError(
                    f"no valid depth at the trace {name} point (pixel {pixels[idx][0]:.0f}, {pixels[idx][1]:.0f}): hole in the depth image"
                )
            if endpoint_tolerance is None or abs(z - d[idx]) <= endpoint_tolerance:
                d[idx] = z
    points_camera = back_project_trace(trace, intrinsics, d)
    return Trace3D(T_target_camera.apply(points_camera), frame_id, trace)
