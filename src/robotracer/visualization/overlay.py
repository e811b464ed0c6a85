"""Draw spatial traces on camera images (OpenCV)."""

from __future__ import annotations

import cv2
import numpy as np

from robotracer.trace.types import Trace


def _colour_ramp(n: int) -> list[tuple[int, int, int]]:
    """Green (start) to red (end), RGB."""
    out = []
    for i in range(n):
        a = i / max(n - 1, 1)
        out.append((int(255 * a), int(220 * (1 - a) + 30), 40))
    return out


def draw_trace(
    rgb: np.ndarray,
    trace: Trace,
    *,
    label: str = "",
    thickness: int = 2,
    colour: tuple[int, int, int] | None = None,
) -> np.ndarray:
    """A copy of ``rgb`` ``(H, W, 3) uint8`` with the trace drawn: a polyline, numbered keypoints, start/end rings.

    Points carry their depth (``d``) as text when the trace has depth.
    """
    img = np.ascontiguousarray(rgb.copy())
    h, w = img.shape[:2]
    px = trace.uv_pixels(w, h)
    pts = np.round(px).astype(np.int32)
    colours = _colour_ramp(len(pts)) if colour is None else [colour] * len(pts)
    for i in range(len(pts) - 1):
        cv2.line(img, tuple(map(int, pts[i])), tuple(map(int, pts[i + 1])), colours[i], thickness, cv2.LINE_AA)
    for i, p in enumerate(pts):
        cv2.circle(img, tuple(map(int, p)), thickness + 3, colours[i], -1, cv2.LINE_AA)
        cv2.circle(img, tuple(map(int, p)), thickness + 3, (255, 255, 255), 1, cv2.LINE_AA)
    cv2.circle(img, tuple(map(int, pts[0])), thickness + 9, colours[0], 2, cv2.LINE_AA)
    cv2.circle(img, tuple(map(int, pts[-1])), thickness + 9, colours[-1], 2, cv2.LINE_AA)
    if trace.has_depth:
        for idx in (0, len(pts) - 1):
            p = pts[idx]
            cv2.putText(img, f"{trace.depth[idx]:.2f}m", (int(p[0]) + 10, int(p[1]) - 8),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
    if label:
        put_banner(img, label)
    return img


def put_banner(img: np.ndarray, text: str, *, top: bool = True) -> np.ndarray:
    """Write ``text`` on a dark strip at the top (or bottom) of ``img`` in place."""
    h, w = img.shape[:2]
    y0 = 0 if top else h - 22
    img[y0 : y0 + 22] = (img[y0 : y0 + 22] * 0.35).astype(img.dtype)
    cv2.putText(img, text[:110], (6, y0 + 15), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def image_sheet(images: list[np.ndarray], columns: int = 3, captions: list[str] | None = None) -> np.ndarray:
    """Tile equally sized ``(H, W, 3) uint8`` images into one sheet, captions on each tile."""
    if not images:
        raise ValueError("no images for the sheet")
    h, w = images[0].shape[:2]
    rows = (len(images) + columns - 1) // columns
    sheet = np.full((rows * h, columns * w, 3), 255, dtype=np.uint8)
    for i, im in enumerate(images):
        tile = np.ascontiguousarray(cv2.resize(im, (w, h)) if im.shape[:2] != (h, w) else im.copy())
        if captions and i < len(captions) and captions[i]:
            put_banner(tile, captions[i], top=False)
        r, c = divmod(i, columns)
        sheet[r * h : (r + 1) * h, c * w : (c + 1) * w] = tile
    return sheet
