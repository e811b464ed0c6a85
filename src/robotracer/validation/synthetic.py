"""Synthetic RGB-D tabletop frames (a table and boxes, ray-cast): test and benchmark scenes for the checks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robotracer.geometry.camera import Intrinsics
from robotracer.geometry.transforms import RigidTransform


@dataclass(frozen=True)
class Box:
    name: str
    lower: tuple[float, float, float]
    upper: tuple[float, float, float]

    @property
    def top_centre(self) -> np.ndarray:
        return np.array([(self.lower[0] + self.upper[0]) / 2, (self.lower[1] + self.upper[1]) / 2, self.upper[2]])


def look_at(eye, target) -> RigidTransform:
    """T_base_camera of an optical frame (x right, y down, z forward) at ``eye`` looking at ``target``."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    f = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(f, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    down = np.cross(f, right)
    return RigidTransform(np.column_stack([right, down, f]), eye)


def render_depth(boxes: list[Box], intrinsics: Intrinsics, T_base_camera: RigidTransform):
    """Depth ``(H, W)`` float32 m and per-pixel box index ``(H, W)`` int (-1 = nothing hit)."""
    H, W = intrinsics.height, intrinsics.width
    v, u = np.mgrid[0:H, 0:W].astype(np.float64)
    rays_cam = np.stack([(u - intrinsics.cx) / intrinsics.fx, (v - intrinsics.cy) / intrinsics.fy, np.ones_like(u)], -1)
    d = rays_cam.reshape(-1, 3) @ T_base_camera.rotation.T
    o = T_base_camera.translation
    best = np.full(len(d), np.inf)
    label = np.full(len(d), -1)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, b in enumerate(boxes):
            t1 = (np.asarray(b.lower) - o) / d
            t2 = (np.asarray(b.upper) - o) / d
            near = np.nanmax(np.minimum(t1, t2), axis=1)
            far = np.nanmin(np.maximum(t1, t2), axis=1)
            hit = (near <= far) & (near > 0) & (near < best)
            best[hit] = near[hit]
            label[hit] = k
    depth = np.where(np.isfinite(best), best, 0.0).astype(np.float32)  # t along rays with z_cam = 1 is depth
    return depth.reshape(H, W), label.reshape(H, W)


def tabletop():
    """(boxes, intrinsics, T_base_camera): table top at z = 0, a cup, an obstacle and a plate."""
    boxes = [
        Box("table", (-0.2, -0.7, -0.05), (1.2, 0.7, 0.0)),
        Box("cup", (0.37, -0.18, 0.0), (0.43, -0.12, 0.10)),
        Box("block", (0.35, 0.0, 0.0), (0.45, 0.1, 0.20)),
        Box("plate", (0.33, 0.18, 0.0), (0.47, 0.32, 0.02)),
    ]
    K = Intrinsics.from_fovy(58.0, 640, 480)
    T = look_at([-0.15, 0.0, 0.75], [0.45, 0.05, 0.0])
    return boxes, K, T
