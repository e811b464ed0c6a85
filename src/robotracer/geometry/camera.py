"""Pinhole camera intrinsics, projection and back-projection (camera optical frame: x right, y down, z forward)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of an image of ``width`` x ``height`` pixels."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self) -> None:
        if not (self.fx > 0 and self.fy > 0):
            raise ValueError(f"focal lengths must be positive, got fx={self.fx}, fy={self.fy}")
        if not (self.width > 0 and self.height > 0):
            raise ValueError(f"image size must be positive, got {self.width}x{self.height}")

    @classmethod
    def from_matrix(cls, K: np.ndarray, width: int, height: int) -> "Intrinsics":
        """From a 3x3 camera matrix (or the 9-element row-major ``CameraInfo.k``)."""
        K = np.asarray(K, dtype=np.float64).reshape(3, 3)
        return cls(float(K[0, 0]), float(K[1, 1]), float(K[0, 2]), float(K[1, 2]), int(width), int(height))

    @classmethod
    def from_fovy(cls, fovy_deg: float, width: int, height: int) -> "Intrinsics":
        """Square pixels with the given vertical field of view (MuJoCo's camera model)."""
        f = 0.5 * height / np.tan(np.deg2rad(fovy_deg) / 2.0)
        return cls(f, f, (width - 1) / 2.0, (height - 1) / 2.0, width, height)

    @property
    def matrix(self) -> np.ndarray:
        """``(3, 3)`` float64 camera matrix K."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def back_project(self, pixels: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Pixels ``(N, 2)`` (column, row) with depth ``(N,)`` metres -> ``(N, 3)`` points in the optical frame."""
        pixels = np.asarray(pixels, dtype=np.float64).reshape(-1, 2)
        depth = np.asarray(depth, dtype=np.float64).reshape(-1)
        x = (pixels[:, 0] - self.cx) * depth / self.fx
        y = (pixels[:, 1] - self.cy) * depth / self.fy
        return np.stack([x, y, depth], axis=1)

    def project(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points ``(N, 3)`` in the optical frame -> (pixels ``(N, 2)``, depth ``(N,)``)."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        z = points[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = self.fx * points[:, 0] / z + self.cx
            v = self.fy * points[:, 1] / z + self.cy
        return np.stack([u, v], axis=1), z.copy()
