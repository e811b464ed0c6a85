"""Camera models and rigid transforms (numpy/scipy only)."""

from robotracer.geometry.camera import Intrinsics
from robotracer.geometry.transforms import RigidTransform

__all__ = ["Intrinsics", "RigidTransform"]
