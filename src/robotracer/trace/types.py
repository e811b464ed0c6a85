"""Typed spatial traces.

A *trace* is what a tracer answers: an ordered list of keypoints ``(u, v)`` or
``(u, v, d)``. RoboTracer's convention is ``u, v`` image-normalised to
[0, 1000] (``u`` along the image width, ``v`` along the height) and ``d``
metric depth in metres. A :class:`Trace3D` is a trace lifted to 3D points in a
named frame.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

import numpy as np

NORMALIZED_RANGE = 1000.0


class CoordinateConvention(str, enum.Enum):
    """How the (u, v) numbers of a trace are expressed."""

    NORMALIZED_1000 = "normalized_1000"  # RoboTracer / RoboRefer: [0, 1000] of width and height
    PIXELS = "pixels"  # absolute pixel column / row


@dataclass(frozen=True)
class Trace:
    """An ordered 2D or 2.5D trace.

    Attributes:
        points: ``(N, 2)`` or ``(N, 3)`` float64 — ``(u, v)`` or ``(u, v, d)``.
        convention: how ``u, v`` are expressed.
        image_size: ``(width, height)`` of the image the points refer to, if known
            (needed to convert between conventions).
    """

    points: np.ndarray
    convention: CoordinateConvention = CoordinateConvention.NORMALIZED_1000
    image_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        pts = np.array(self.points, dtype=np.float64, copy=True)
        if pts.ndim != 2 or pts.shape[1] not in (2, 3):
            raise ValueError(f"trace points must have shape (N, 2) or (N, 3), got {pts.shape}")
        if not np.all(np.isfinite(pts)):
            raise ValueError("trace points must be finite (found NaN or inf)")
        pts.setflags(write=False)
        object.__setattr__(self, "points", pts)

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def has_depth(self) -> bool:
        return self.points.shape[1] == 3

    @property
    def uv(self) -> np.ndarray:
        """``(N, 2)`` float64 image coordinates in this trace's convention."""
        return self.points[:, :2]

    @property
    def depth(self) -> np.ndarray | None:
        """``(N,)`` float64 depth in metres, or None for a 2D trace."""
        return self.points[:, 2] if self.has_depth else None

    def uv_pixels(self, width: int | None = None, height: int | None = None) -> np.ndarray:
        """``(N, 2)`` float64 pixel coordinates (column, row)."""
        if self.convention is CoordinateConvention.PIXELS:
            return self.uv.copy()
        width, height = self._size(width, height)
        return self.uv / NORMALIZED_RANGE * np.array([width, height], dtype=np.float64)

    def uv_normalized(self, width: int | None = None, height: int | None = None) -> np.ndarray:
        """``(N, 2)`` float64 coordinates in [0, 1000]."""
        if self.convention is CoordinateConvention.NORMALIZED_1000:
            return self.uv.copy()
        width, height = self._size(width, height)
        return self.uv / np.array([width, height], dtype=np.float64) * NORMALIZED_RANGE

    def to_normalized(self, width: int | None = None, height: int | None = None) -> "Trace":
        """The same trace in the [0, 1000] convention."""
        w, h = self._size(width, height) if self.convention is CoordinateConvention.PIXELS else (width, height)
        pts = self.points.copy()
        pts[:, :2] = self.uv_normalized(w, h)
        size = self.image_size or ((w, h) if w and h else None)
        return Trace(pts, CoordinateConvention.NORMALIZED_1000, size)

    def to_text(self, decimals: int = 3) -> str:
        """RoboTracer answer text: ``[(x1, y1, d1), (x2, y2, d2), ...]`` (u, v rounded to integers)."""
        parts = []
        for p in self.points:
            u, v = int(round(p[0])), int(round(p[1]))
            parts.append(f"({u}, {v}, {p[2]:.{decimals}f})" if self.has_depth else f"({u}, {v})")
        return "[" + ", ".join(parts) + "]"

    def _size(self, width: int | None, height: int | None) -> tuple[int, int]:
        if width is None or height is None:
            if self.image_size is None:
                raise ValueError("image size unknown: pass width and height or build the trace with image_size")
            return self.image_size
        return int(width), int(height)


@dataclass(frozen=True)
class Trace3D:
    """A trace lifted to 3D.

    Attributes:
        positions: ``(N, 3)`` float64 metres, in ``frame_id``.
        frame_id: the frame the positions are expressed in (e.g. ``camera_color_optical_frame``, ``base_link``).
        source: the 2.5D trace it was lifted from, if any.
    """

    positions: np.ndarray
    frame_id: str
    source: Trace | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        pos = np.array(self.positions, dtype=np.float64, copy=True)
        if pos.ndim != 2 or pos.shape[1] != 3:
            raise ValueError(f"3D trace positions must have shape (N, 3), got {pos.shape}")
        if not np.all(np.isfinite(pos)):
            raise ValueError("3D trace positions must be finite (found NaN or inf)")
        pos.setflags(write=False)
        object.__setattr__(self, "positions", pos)

    def __len__(self) -> int:
        return int(self.positions.shape[0])
