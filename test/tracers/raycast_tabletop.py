"""Synthetic RGB-D-segmentation frames of a tabletop, ray-cast analytically (no simulator).

World frame: z up, table top at z = 0 over ``x in [-table_half_x, table_half_x]``,
``y in [-table_half_y, table_half_y]``; the camera looks at the table from ``-y`` (so world
+x is the image's right and +y is "behind"). Objects are upright cylinders or boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from robotracer.geometry.camera import Intrinsics
from robotracer.geometry.transforms import RigidTransform
from robotracer.tracers.base import Observation


@dataclass(frozen=True)
class Shape:
    """An upright cylinder (``half_y`` None) or box standing on the table at ``(x, y)``."""

    name: str
    x: float
    y: float
    height: float
    radius: float = 0.0  # cylinder
    half_x: float | None = None  # box half sizes
    half_y: float | None = None

    @property
    def top_center(self) -> np.ndarray:
        return np.array([self.x, self.y, self.height])


@dataclass(frozen=True)
class Scene:
    shapes: tuple[Shape, ...]
    eye: tuple[float, float, float] = (0.0, -0.75, 0.6)
    target: tuple[float, float, float] = (0.0, 0.0, 0.0)
    table_half_x: float = 0.45
    table_half_y: float = 0.35
    table_thickness: float = 0.04
    width: int = 640
    height: int = 480
    fovy_deg: float = 58.0
    extra_labels: dict = field(default_factory=dict)

    @property
    def intrinsics(self) -> Intrinsics:
        return Intrinsics.from_fovy(self.fovy_deg, self.width, self.height)

    @property
    def T_world_camera(self) -> RigidTransform:
        eye, target = np.array(self.eye), np.array(self.target)
        z = (target - eye) / np.linalg.norm(target - eye)
        x = np.cross(z, [0.0, 0.0, 1.0])
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        return RigidTransform(np.column_stack([x, y, z]), eye)

    def shape(self, name: str) -> Shape:
        return next(s for s in self.shapes if s.name == name)

    def render(self, label_source: str = "sim_ground_truth") -> Observation:
        """Ray-cast depth (camera z, metres) and segmentation (0 background, 1 table, 2 robot, 3.. shapes)."""
        intr = self.intrinsics
        T = self.T_world_camera
        cols, rows = np.meshgrid(np.arange(intr.width, dtype=np.float64), np.arange(intr.height, dtype=np.float64))
        rays_cam = np.stack([(cols - intr.cx) / intr.fx, (rows - intr.cy) / intr.fy, np.ones_like(cols)], -1)
        rays = rays_cam.reshape(-1, 3) @ T.rotation.T  # world directions with camera-z = 1
        o = T.translation
        best_t = np.full(rays.shape[0], np.inf)
        seg = np.zeros(rays.shape[0], dtype=np.uint16)
        # table: top face and its front/side faces as a box
        t = _box_hit(o, rays, (-self.table_half_x, -self.table_half_y, -self.table_thickness),
                     (self.table_half_x, self.table_half_y, 0.0))
        _take(best_t, seg, t, 1)
        # a robot base block beside the table (scenery, must never count as an object)
        t = _box_hit(o, rays, (self.table_half_x + 0.05, -0.1, -0.3), (self.table_half_x + 0.2, 0.1, 0.3))
        _take(best_t, seg, t, 2)
        for i, s in enumerate(self.shapes):
            if s.half_x is not None:
                t = _box_hit(o, rays, (s.x - s.half_x, s.y - s.half_y, 0.0), (s.x + s.half_x, s.y + s.half_y, s.height))
            else:
                t = _cylinder_hit(o, rays, s)
            _take(best_t, seg, t, 3 + i)
        depth = np.where(np.isfinite(best_t), best_t, 0.0).astype(np.float32).reshape(intr.height, intr.width)
        seg = seg.reshape(intr.height, intr.width)
        rgb = np.zeros((intr.height, intr.width, 3), dtype=np.uint8)
        rgb[..., 0] = (seg * 40 % 255).astype(np.uint8)
        labels = {0: "background", 1: "table", 2: "robot", **{3 + i: s.name for i, s in enumerate(self.shapes)}}
        labels.update(self.extra_labels)
        return Observation(rgb, depth, intr, seg, labels, label_source)


def _take(best_t, seg, t, label):
    closer = t < best_t
    best_t[closer] = t[closer]
    seg[closer] = label


def _box_hit(o, d, lo, hi):
    """Ray parameter of the first hit with an axis-aligned box (inf on a miss)."""
    lo, hi = np.asarray(lo), np.asarray(hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (lo - o) / d
        t2 = (hi - o) / d
    tmin = np.nanmax(np.minimum(t1, t2), axis=1)
    tmax = np.nanmin(np.maximum(t1, t2), axis=1)
    hit = (tmax >= tmin) & (tmin > 0)
    return np.where(hit, tmin, np.inf)


def _cylinder_hit(o, d, s: Shape):
    """First hit with an upright closed cylinder (side or top cap)."""
    ox, oy = o[0] - s.x, o[1] - s.y
    a = d[:, 0] ** 2 + d[:, 1] ** 2
    b = 2 * (ox * d[:, 0] + oy * d[:, 1])
    c = ox**2 + oy**2 - s.radius**2
    disc = b * b - 4 * a * c
    with np.errstate(invalid="ignore", divide="ignore"):
        t_side = (-b - np.sqrt(disc)) / (2 * a)
    z_side = o[2] + t_side * d[:, 2]
    side_ok = (disc >= 0) & (t_side > 0) & (z_side >= 0) & (z_side <= s.height)
    with np.errstate(divide="ignore", invalid="ignore"):
        t_top = (s.height - o[2]) / d[:, 2]
    px, py = o[0] + t_top * d[:, 0] - s.x, o[1] + t_top * d[:, 1] - s.y
    top_ok = (t_top > 0) & (px**2 + py**2 <= s.radius**2)
    return np.minimum(np.where(side_ok, t_side, np.inf), np.where(top_ok, t_top, np.inf))


def default_scene(shapes: tuple[Shape, ...] | None = None, **overrides) -> Scene:
    """A cup, a plate, a bowl, an apple and a block on the table (or ``shapes``)."""
    if shapes is not None:
        return Scene(tuple(shapes), **overrides)
    shapes = (
        Shape("cup", x=0.10, y=-0.05, height=0.10, radius=0.04),
        Shape("plate", x=-0.05, y=0.05, height=0.02, radius=0.09),
        Shape("bowl", x=0.25, y=0.15, height=0.06, radius=0.07),
        Shape("apple", x=-0.25, y=-0.10, height=0.07, radius=0.035),
        Shape("block", x=0.28, y=-0.12, height=0.05, half_x=0.025, half_y=0.025),
    )
    return Scene(shapes, **overrides)
