"""Rigid transforms. Names say which frame maps to which: ``T_base_camera`` maps camera points into base."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

_EYE3 = np.eye(3)


def _det3(R: np.ndarray) -> float:
    """Determinant of a ``(3, 3)`` matrix (a tenth of ``np.linalg.det``'s cost on one matrix)."""
    a, b, c, d, e, f, g, h, i = R.ravel().tolist()
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


@dataclass(frozen=True)
class RigidTransform:
    """A proper rigid transform ``p_parent = R @ p_child + t``."""

    rotation: np.ndarray  # (3, 3) float64
    translation: np.ndarray  # (3,) float64

    def __post_init__(self) -> None:
        R = np.asarray(self.rotation, dtype=np.float64).reshape(3, 3)
        t = np.asarray(self.translation, dtype=np.float64).reshape(3)
        if np.abs(R @ R.T - _EYE3).max() > 1e-6 or _det3(R) < 0:  # (allclose costs 10x more)
            raise ValueError("rotation must be a proper orthonormal 3x3 matrix")
        object.__setattr__(self, "rotation", R)
        object.__setattr__(self, "translation", t)

    @classmethod
    def unchecked(cls, rotation: np.ndarray, translation: np.ndarray) -> "RigidTransform":
        """From a rotation already known to be proper (float64 ``(3, 3)``) and a float64 ``(3,)``
        translation, without the orthonormality check (for hot loops over one fixed rotation)."""
        T = object.__new__(cls)
        object.__setattr__(T, "rotation", rotation)
        object.__setattr__(T, "translation", translation)
        return T

    @classmethod
    def identity(cls) -> "RigidTransform":
        return cls(np.eye(3), np.zeros(3))

    @classmethod
    def from_matrix(cls, T: np.ndarray) -> "RigidTransform":
        T = np.asarray(T, dtype=np.float64)
        return cls(T[:3, :3], T[:3, 3])

    @classmethod
    def from_xyz_quat_wxyz(cls, xyz, quat_wxyz) -> "RigidTransform":
        w, x, y, z = quat_wxyz
        return cls(Rotation.from_quat([x, y, z, w]).as_matrix(), xyz)

    @classmethod
    def from_xyz_quat_xyzw(cls, xyz, quat_xyzw) -> "RigidTransform":
        return cls(Rotation.from_quat(quat_xyzw).as_matrix(), xyz)

    @classmethod
    def from_xyz_rpy(cls, xyz, rpy) -> "RigidTransform":
        """Roll-pitch-yaw in radians about fixed x, y, z axes (URDF / REP-103 convention)."""
        return cls(Rotation.from_euler("xyz", rpy).as_matrix(), xyz)

    @property
    def matrix(self) -> np.ndarray:
        T = np.eye(4)
        T[:3, :3] = self.rotation
        T[:3, 3] = self.translation
        return T

    @property
    def quat_xyzw(self) -> np.ndarray:
        return Rotation.from_matrix(self.rotation).as_quat()

    def apply(self, points: np.ndarray) -> np.ndarray:
        """``(N, 3)`` points in the child frame -> ``(N, 3)`` in the parent frame."""
        points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        return points @ self.rotation.T + self.translation

    def inverse(self) -> "RigidTransform":
        return RigidTransform(self.rotation.T, -self.rotation.T @ self.translation)

    def __matmul__(self, other: "RigidTransform") -> "RigidTransform":
        return RigidTransform(self.rotation @ other.rotation, self.rotation @ other.translation + self.translation)
