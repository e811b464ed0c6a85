"""Parse tracer answers into :class:`~robotracer.trace.types.Trace`.

Never evaluates the text: numbers are read with a regular expression.
"""

from __future__ import annotations

import re

import numpy as np

from robotracer.trace.types import NORMALIZED_RANGE, CoordinateConvention, Trace


class TraceParseError(ValueError):
    """The answer text is not a usable trace; the message says what was wrong."""


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)"
_TUPLE = re.compile(r"\(([^()]*)\)")
_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)


def parse_trace(
    text: str,
    *,
    convention: CoordinateConvention = CoordinateConvention.NORMALIZED_1000,
    image_size: tuple[int, int] | None = None,
    require_depth: bool | None = None,
    min_points: int = 1,
) -> Trace:
    """Parse ``[(x1, y1, d1), (x2, y2, d2), ...]`` (or 2D tuples) into a Trace.

    Args:
        text: the model's answer; an RFT ``<answer>…</answer>`` block is used when present.
        convention: how x, y are expressed (default: RoboTracer's [0, 1000]).
        image_size: ``(width, height)``; required to range-check pixel coordinates.
        require_depth: True = every tuple must have a depth, False = must not, None = either.
        min_points: fewer points than this is an error.

    Raises:
        TraceParseError: empty or garbage text, non-finite numbers, mixed 2D/3D tuples,
            out-of-range coordinates or non-positive depth.
    """
    if not isinstance(text, str) or not text.strip():
        raise TraceParseError("empty answer: expected [(x, y, d), ...]")
    match = _ANSWER.search(text)
    body = match.group(1) if match else text
    rows = []
    for i, group in enumerate(_TUPLE.findall(body)):
        fields = [f.strip() for f in group.split(",") if f.strip()]
        values = []
        for f in fields:
            if not re.fullmatch(_NUMBER, f, re.I):
                raise TraceParseError(f"point {i} has a non-number {f!r}: ({group})")
            values.append(float(f))
        rows.append(values)
    if not rows:
        raise TraceParseError(f"no (x, y[, d]) tuples found in answer: {text[:80]!r}")
    dims = {len(r) for r in rows}
    if dims - {2, 3}:
        bad = next(i for i, r in enumerate(rows) if len(r) not in (2, 3))
        raise TraceParseError(f"point {bad} has {len(rows[bad])} numbers; expected 2 (x, y) or 3 (x, y, d)")
    if len(dims) > 1:
        raise TraceParseError("answer mixes 2-number and 3-number points; expected all (x, y) or all (x, y, d)")
    pts = np.asarray(rows, dtype=np.float64)
    if not np.all(np.isfinite(pts)):
        raise TraceParseError("answer contains NaN or infinite coordinates")
    has_depth = pts.shape[1] == 3
    if require_depth is True and not has_depth:
        raise TraceParseError("answer has no depth: expected (x, y, d) tuples")
    if require_depth is False and has_depth:
        raise TraceParseError("answer has depth but a 2D trace (x, y) was expected")
    if len(pts) < min_points:
        raise TraceParseError(f"answer has {len(pts)} point(s); at least {min_points} required")
    _check_range(pts, convention, image_size)
    if has_depth and np.any(pts[:, 2] <= 0):
        bad = int(np.argmax(pts[:, 2] <= 0))
        raise TraceParseError(f"point {bad} has non-positive depth {pts[bad, 2]} m")
    return Trace(pts, convention, image_size)


def _check_range(pts: np.ndarray, convention: CoordinateConvention, image_size: tuple[int, int] | None) -> None:
    if convention is CoordinateConvention.NORMALIZED_1000:
        hi = np.array([NORMALIZED_RANGE, NORMALIZED_RANGE])
    elif image_size is not None:
        hi = np.array(image_size, dtype=np.float64)
    else:
        return
    uv = pts[:, :2]
    bad = np.flatnonzero(np.any((uv < 0) | (uv > hi), axis=1))
    if bad.size:
        i = int(bad[0])
        raise TraceParseError(
            f"point {i} ({uv[i, 0]:g}, {uv[i, 1]:g}) is outside the image range [0, {hi[0]:g}] x [0, {hi[1]:g}]"
        )
