"""Parse tracer answers into :class:`~robotracer.trace.types.Trace`.

Formats read (found in this order of preference):

- the RFT form ``<think>…</think><answer>(x, y, d), …</answer>``: only the answer block is read,
  the reasoning never is;
- a fenced code block (```` ```json … ``` ````), as Gemini / Qwen answer, holding a JSON list or
  dict of points, or RoboTracer tuples; the last block holding points wins;
- a bare JSON list of at least two points (``[[x, y, d], …]``), or a JSON dict holding one
  (``{"trajectory": [...]}``, ``[{"point": [y, x], "label": …}, …]``);
- RoboTracer text ``[(x, y, d), (x, y, d), …]`` or ``[(x, y), …]``.

Points may be in [0, 1000] (RoboTracer) or pixels, in ``(x, y)`` or ``(y, x)`` order (Gemini
Robotics-ER). The text is never evaluated: tuples are read with regular expressions, JSON with
:mod:`json`. Every failure raises a subclass of :class:`TraceParseError` naming what was wrong.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass

import numpy as np

from robotracer.trace.types import NORMALIZED_RANGE, CoordinateConvention, Trace


class TraceParseError(ValueError):
    """The answer text is not a usable trace; the message says what was wrong."""


class EmptyAnswerError(TraceParseError):
    """The answer is empty or only whitespace."""


class NoTraceFoundError(TraceParseError):
    """The answer holds no list of points (prose only, or a truncated answer)."""


class MalformedPointError(TraceParseError):
    """A point holds a non-number or a wrong count of numbers."""


class MixedDimensionsError(TraceParseError):
    """Some points have a depth and others do not."""


class NonFiniteError(TraceParseError):
    """A coordinate is NaN or infinite."""


class DepthMismatchError(TraceParseError):
    """The points have a depth where none was expected, or none where one was required."""


class TooFewPointsError(TraceParseError):
    """Fewer points than required."""


class OutOfRangeError(TraceParseError):
    """A coordinate lies outside the image range, or a depth is not positive."""


class PointOrder(str, enum.Enum):
    """Order of the two image coordinates in each point."""

    XY = "xy"  # RoboTracer, Qwen: (x along the width, y along the height)
    YX = "yx"  # Gemini Robotics-ER points: [y, x]


class AnswerFormat(str, enum.Enum):
    """Where in the answer the points were found."""

    TUPLES = "tuples"  # [(x, y, d), ...]
    RFT_ANSWER = "rft_answer"  # <answer>(x, y, d), ...</answer>
    FENCED_JSON = "fenced_json"  # ```json [[x, y, d], ...] ```
    FENCED_TUPLES = "fenced_tuples"  # ``` [(x, y, d), ...] ```
    JSON = "json"  # bare [[x, y, d], ...] or {"points": ...}


@dataclass(frozen=True)
class ExtractedPoints:
    """Points as written in the answer, before any checks.

    Attributes:
        rows: one tuple of floats per point, lengths as written (may be ragged).
        format: where the points were found.
    """

    rows: tuple[tuple[float, ...], ...]
    format: AnswerFormat


@dataclass(frozen=True)
class ParsedAnswer:
    """A checked trace and the answer format it came from."""

    trace: Trace
    format: AnswerFormat


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)"
_NUMBER_RE = re.compile(rf"(?:{_NUMBER})", re.I)
_TUPLE = re.compile(r"\(([^()]*)\)")
_TUPLE_LIST = re.compile(r"\[\s*(\([^()]*\)(?:\s*,\s*\([^()]*\))*)\s*,?\s*\]")
_ONLY_TUPLES = re.compile(r"^\s*\[?\s*(\([^()]*\)\s*,?\s*)+\]?\s*$")
_ANSWER = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.S | re.I)
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)
_FENCE = re.compile(r"```[ \t]*([\w+-]*)[ \t]*\n?(.*?)```", re.S)
_POINT_KEYS = ("point", "points_2d", "xy", "uv", "uvd", "xyd", "coordinates", "coords", "position", "pos")
_LIST_KEYS = ("trace", "trajectory", "points", "keypoints", "waypoints", "path", "visual_trace", "spatial_trace")


def extract_points(text: str) -> ExtractedPoints:
    """Find the list of points in an answer, without checking their values.

    Raises:
        EmptyAnswerError, NoTraceFoundError, MalformedPointError.
    """
    if not isinstance(text, str) or not text.strip():
        raise EmptyAnswerError("empty answer: expected [(x, y, d), ...] or a JSON list of points")
    answer = _ANSWER.search(text)
    if answer:
        body = answer.group(1)
        rows = _tuples_in(body) if _TUPLE.search(body) else None
        if rows is None:
            found = _from_json_text(body)
            rows = found.rows if found else None
        if not rows:
            raise NoTraceFoundError(f"the <answer> block holds no points: {body.strip()[:80]!r}")
        return ExtractedPoints(tuple(rows), AnswerFormat.RFT_ANSWER)
    body = _THINK.sub(" ", text)
    for lang, block in reversed(_FENCE.findall(body)):
        found = _from_json_text(block, whole=True)
        if found is not None:
            return ExtractedPoints(found.rows, AnswerFormat.FENCED_JSON)
        lists = _TUPLE_LIST.findall(block)
        if lists:
            return ExtractedPoints(tuple(_tuples_in(lists[-1])), AnswerFormat.FENCED_TUPLES)
    lists = _TUPLE_LIST.findall(body)
    if lists:
        return ExtractedPoints(tuple(_tuples_in(lists[-1])), AnswerFormat.TUPLES)
    if _ONLY_TUPLES.match(body):
        return ExtractedPoints(tuple(_tuples_in(body)), AnswerFormat.TUPLES)
    found = _from_json_text(body)
    if found is not None:
        return ExtractedPoints(found.rows, AnswerFormat.JSON)
    tail = text.strip()[-60:]
    raise NoTraceFoundError(
        "no list of points found: expected [(x, y, d), ...], <answer>(x, y, d), ...</answer> or a JSON list "
        f"like [[x, y, d], ...] (the answer may be truncated; it ends with {tail!r})"
    )


def parse_answer(
    text: str,
    *,
    convention: CoordinateConvention = CoordinateConvention.NORMALIZED_1000,
    image_size: tuple[int, int] | None = None,
    require_depth: bool | None = None,
    min_points: int = 1,
    order: PointOrder | str = PointOrder.XY,
) -> ParsedAnswer:
    """Like :func:`parse_trace`, and also say which answer format the points came from."""
    extracted = extract_points(text)
    trace = points_to_trace(
        extracted.rows,
        convention=convention,
        image_size=image_size,
        require_depth=require_depth,
        min_points=min_points,
        order=order,
    )
    return ParsedAnswer(trace, extracted.format)


def parse_trace(
    text: str,
    *,
    convention: CoordinateConvention = CoordinateConvention.NORMALIZED_1000,
    image_size: tuple[int, int] | None = None,
    require_depth: bool | None = None,
    min_points: int = 1,
    order: PointOrder | str = PointOrder.XY,
) -> Trace:
    """Parse a tracer answer (any format of the module docstring) into a Trace.

    Args:
        text: the model's answer.
        convention: how x, y are expressed (default: RoboTracer's [0, 1000]).
        image_size: ``(width, height)``; required to range-check pixel coordinates.
        require_depth: True = every point must have a depth, False = must not, None = either.
        min_points: fewer points than this is an error.
        order: ``"xy"`` (default) or ``"yx"`` (Gemini Robotics-ER writes ``[y, x]``).

    Raises:
        TraceParseError: one of its subclasses, for empty or garbage text, non-finite numbers,
            mixed 2D/3D points, out-of-range coordinates or non-positive depth.
    """
    return parse_answer(
        text,
        convention=convention,
        image_size=image_size,
        require_depth=require_depth,
        min_points=min_points,
        order=order,
    ).trace


def points_to_trace(
    rows,
    *,
    convention: CoordinateConvention = CoordinateConvention.NORMALIZED_1000,
    image_size: tuple[int, int] | None = None,
    require_depth: bool | None = None,
    min_points: int = 1,
    order: PointOrder | str = PointOrder.XY,
) -> Trace:
    """Check extracted rows (see :func:`extract_points`) and build the Trace; raises as :func:`parse_trace`."""
    order = _choice(PointOrder, order, "order")
    convention = _choice(CoordinateConvention, convention, "convention")
    rows = [tuple(r) for r in rows]
    if not rows:
        raise NoTraceFoundError("the answer's list of points is empty")
    dims = {len(r) for r in rows}
    if dims - {2, 3}:
        bad = next(i for i, r in enumerate(rows) if len(r) not in (2, 3))
        raise MalformedPointError(f"point {bad} has {len(rows[bad])} numbers; expected 2 (x, y) or 3 (x, y, d)")
    if len(dims) > 1:
        n3 = sum(len(r) == 3 for r in rows)
        raise MixedDimensionsError(
            f"answer mixes 2-number and 3-number points ({n3} of {len(rows)} have a depth); "
            "expected all (x, y) or all (x, y, d)"
        )
    pts = np.asarray(rows, dtype=np.float64)
    if not np.all(np.isfinite(pts)):
        bad = int(np.flatnonzero(~np.all(np.isfinite(pts), axis=1))[0])
        raise NonFiniteError(f"point {bad} has a NaN or infinite coordinate: {rows[bad]}")
    has_depth = pts.shape[1] == 3
    if require_depth is True and not has_depth:
        raise DepthMismatchError("answer has no depth: expected (x, y, d) points")
    if require_depth is False and has_depth:
        raise DepthMismatchError("answer has depth but a 2D trace (x, y) was expected")
    if len(pts) < min_points:
        raise TooFewPointsError(f"answer has {len(pts)} point(s); at least {min_points} required")
    if order is PointOrder.YX:
        pts[:, [0, 1]] = pts[:, [1, 0]]
    _check_range(pts, convention, image_size)
    if has_depth and np.any(pts[:, 2] <= 0):
        bad = int(np.argmax(pts[:, 2] <= 0))
        raise OutOfRangeError(f"point {bad} has non-positive depth {pts[bad, 2]:g} m")
    return Trace(pts, convention, image_size)


def _choice(enum_type, value, what: str):
    try:
        return enum_type(value)
    except ValueError:
        valid = ", ".join(repr(m.value) for m in enum_type)
        raise ValueError(f"unknown {what} {value!r}; valid: {valid}") from None


def _tuples_in(body: str) -> list[tuple[float, ...]]:
    rows = []
    for i, group in enumerate(_TUPLE.findall(body)):
        fields = [f.strip() for f in group.split(",")]
        if fields and fields[-1] == "":
            fields.pop()
        values = []
        for f in fields:
            if not _NUMBER_RE.fullmatch(f):
                raise MalformedPointError(f"point {i} has a non-number {f!r}: ({group.strip()})")
            values.append(float(f))
        rows.append(tuple(values))
    return rows


@dataclass(frozen=True)
class _JsonPoints:
    rows: tuple[tuple[float, ...], ...]


def _from_json_text(text: str, whole: bool = False) -> _JsonPoints | None:
    """Points from JSON in ``text``: the whole text if it is JSON, else the last JSON list/dict holding >= 2 points."""
    decoder = json.JSONDecoder()
    stripped = text.strip()
    if whole or stripped[:1] in "[{":
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if value is not None:
            rows = _json_points(value)
            if rows:
                return _JsonPoints(rows)
            if whole:
                return None
    best = None
    i = 0
    while True:
        starts = [p for p in (text.find("[", i), text.find("{", i)) if p >= 0]
        if not starts:
            break
        i = min(starts)
        try:
            value, end = decoder.raw_decode(text, i)
            rows = _json_points(value)
        except ValueError:  # not JSON here, or JSON that is not a list of points (MalformedPointError)
            i += 1
            continue
        if rows and (len(rows) >= 2 or isinstance(value, dict)):
            best = _JsonPoints(rows)
            i = end
        else:
            i += 1
    return best


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _json_point(value) -> tuple[float, ...] | None:
    if isinstance(value, list) and value and all(_is_number(v) for v in value):
        return tuple(float(v) for v in value)
    if isinstance(value, dict):
        for key in _POINT_KEYS:
            if key in value:
                return _json_point(value[key])
        if "x" in value and "y" in value:
            vals = [value["x"], value["y"]]
            for key in ("d", "depth", "z"):
                if key in value:
                    vals.append(value[key])
                    break
            if all(_is_number(v) for v in vals):
                return tuple(float(v) for v in vals)
    return None


def _json_points(value) -> tuple[tuple[float, ...], ...] | None:
    """The points a JSON value holds: a list of points, or a dict holding such a list."""
    if isinstance(value, list):
        if not value or all(_is_number(v) for v in value):
            return None  # a single point is not a trace
        pts = [_json_point(v) for v in value]
        if all(p is not None for p in pts):
            return tuple(pts)
        if any(p is None and not isinstance(v, (list, dict)) for p, v in zip(pts, value)):
            bad = next(i for i, (p, v) in enumerate(zip(pts, value)) if p is None)
            raise MalformedPointError(f"point {bad} is not a list of numbers: {json.dumps(value[bad])[:60]}")
        return None
    if isinstance(value, dict):
        for key in _LIST_KEYS:
            if key in value:
                rows = _json_points(value[key])
                if rows:
                    return rows
        for v in value.values():
            rows = _json_points(v) if isinstance(v, (list, dict)) else None
            if rows:
                return rows
    return None


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
        raise OutOfRangeError(
            f"point {i} ({uv[i, 0]:g}, {uv[i, 1]:g}) is outside the image range [0, {hi[0]:g}] x [0, {hi[1]:g}]"
        )
