"""Scene occupancy from one depth frame, tested projectively (no voxel grid to build).

A point is *occupied* when, seen from the camera, it lies on or behind the observed surface
at its pixel, by at most ``thickness`` (objects are assumed at least that deep). This is the
occupancy of a voxel grid built from the frame, without quantisation and without building
the grid: it costs one projection and one depth look-up per tested point.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robotracer.geometry.camera import Intrinsics
from robotracer.geometry.transforms import RigidTransform


def back_project_pixels(
    depth: np.ndarray, intrinsics: Intrinsics, T_target_camera: RigidTransform, rows: np.ndarray, cols: np.ndarray
) -> np.ndarray:
    """``(N, 3)`` float64 target-frame points of the given pixels (``(N,)`` int each); holes are dropped."""
    z = np.asarray(depth[rows, cols], dtype=np.float64)
    ok = np.isfinite(z) & (z > 0)
    rows, cols, z = rows[ok], cols[ok], z[ok]
    pts = np.stack([(cols - intrinsics.cx) * z / intrinsics.fx, (rows - intrinsics.cy) * z / intrinsics.fy, z], axis=1)
    return T_target_camera.apply(pts)


def depth_to_points(
    depth: np.ndarray, intrinsics: Intrinsics, T_target_camera: RigidTransform, mask: np.ndarray | None = None
) -> np.ndarray:
    """``(N, 3)`` float64 target-frame points of the valid pixels of ``depth`` (``(H, W)`` m), inside ``mask`` if given."""
    H, W = depth.shape[:2]
    if (H, W) != (intrinsics.height, intrinsics.width):
        raise ValueError(f"depth is {W}x{H} but the camera info says {intrinsics.width}x{intrinsics.height}")
    sel = np.isfinite(depth) & (depth > 0)
    if mask is not None:
        sel &= np.asarray(mask, dtype=bool)
    rows, cols = np.nonzero(sel)
    return back_project_pixels(depth, intrinsics, T_target_camera, rows, cols)


@dataclass(frozen=True)
class DepthOccupancy:
    """Occupied space of one depth frame.

    Attributes:
        depth: ``(H, W)`` float32 metres; 0 = unknown (holes, removed pixels) = free.
        intrinsics: the depth camera.
        T_camera_target: maps points of the tested frame (e.g. base) into the camera optical frame.
        surface_tolerance: a point this far in front of the surface already counts (m).
        thickness: how far behind the observed surface space counts as solid (m).
    """

    depth: np.ndarray
    intrinsics: Intrinsics
    T_camera_target: RigidTransform
    surface_tolerance: float = 0.01
    thickness: float = 0.10

    def is_occupied(self, points: np.ndarray) -> np.ndarray:
        """``(...)`` bool for ``(..., 3)`` points in the target frame (outside the view = free)."""
        pts = np.asarray(points, dtype=np.float64)
        return self.is_occupied_camera(self.T_camera_target.apply(pts.reshape(-1, 3))).reshape(pts.shape[:-1])

    def is_swept_occupied(self, points: np.ndarray, shifts: np.ndarray) -> np.ndarray:
        """``(K, M)`` bool: points ``(M, 3)`` translated by each of ``shifts`` ``(K, 3)`` (target frame)."""
        R = self.T_camera_target.rotation
        cam = (self.T_camera_target.apply(points)).astype(np.float32)
        shift_cam = (np.asarray(shifts, dtype=np.float64) @ R.T).astype(np.float32)
        return self.is_occupied_camera(cam[None, :, :] + shift_cam[:, None, :])

    def is_occupied_camera(self, cam: np.ndarray) -> np.ndarray:
        """``(...)`` bool for ``(..., 3)`` points already in the camera optical frame."""
        K = self.intrinsics
        x, y, z = cam[..., 0], cam[..., 1], cam[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            inv = np.float32(1.0) / z
            u = np.floor(np.float32(K.fx) * x * inv + np.float32(K.cx + 0.5))
            v = np.floor(np.float32(K.fy) * y * inv + np.float32(K.cy + 0.5))
        inside = (z > 0) & (u >= 0) & (u < K.width) & (v >= 0) & (v < K.height)
        ui = np.where(inside, u, 0).astype(np.intp)
        vi = np.where(inside, v, 0).astype(np.intp)
        d = self.depth[vi, ui]
        return inside & (d > 0) & (z >= d - self.surface_tolerance) & (z <= d + self.thickness)
