"""Parsing of tracer answers: all formats, typed errors, and the 400 real answers in the fixtures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from robotracer.trace.parsing import (
    AnswerFormat,
    DepthMismatchError,
    EmptyAnswerError,
    MalformedPointError,
    MixedDimensionsError,
    NoTraceFoundError,
    NonFiniteError,
    OutOfRangeError,
    TooFewPointsError,
    TraceParseError,
    parse_answer,
    parse_trace,
)
from robotracer.trace.types import CoordinateConvention

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "tracespatial_outputs"
if not FIXTURES.is_dir():  # checkout next to the shared folder, or shared/ inside it
    FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "tracespatial_outputs"

# Gemini-3-Pro 2D answers cut off before (or inside) their trace: no trace to parse.
TRUNCATED_GEMINI_2D = {15, 30, 74, 75, 84}


def _rows(name: str) -> list[dict]:
    path = FIXTURES / name
    if not path.is_file():
        pytest.skip(f"fixtures not found at {path}")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _expected_count(text: str) -> int:
    """Count points independently of the parser: JSON in the fence, else '(' of the tuple list."""
    fence = re.search(r"```json\s*(.*?)```", text, re.S)
    if fence:
        return len(json.loads(fence.group(1)))
    if text.lstrip().startswith("[("):
        return text.count("(")
    return len(json.loads(text[text.rindex("[[") : text.rindex("]]") + 2]))


@pytest.mark.parametrize(
    "name,dims,fmt",
    [
        ("RoboTracer_Intrinsics_Depth_3D.jsonl", 3, AnswerFormat.TUPLES),
        ("RoboTracer_Intrinsics_Depth_2D.jsonl", 2, AnswerFormat.TUPLES),
        ("Gemini3Pro_3D.jsonl", 3, AnswerFormat.FENCED_JSON),
        ("Gemini3Pro_2D.jsonl", 2, None),
    ],
)
def test_fixture_answers_parse_with_the_right_point_counts(name, dims, fmt):
    rows = _rows(name)
    assert len(rows) == 100
    parsed = 0
    for row in rows:
        text = row["model_prediction"]
        if name.startswith("Gemini3Pro_2D") and row["question_id"] in TRUNCATED_GEMINI_2D:
            assert "```" not in text or text.count("```") == 1  # really cut off
            with pytest.raises(NoTraceFoundError, match="truncated"):
                parse_trace(text)
            continue
        answer = parse_answer(text, require_depth=dims == 3, min_points=2)
        assert answer.trace.points.shape == (_expected_count(text), dims)
        if fmt is not None:
            assert answer.format is fmt
        parsed += 1
    expected = 95 if name.startswith("Gemini3Pro_2D") else 100
    assert parsed == expected


def test_gemini_prose_points_before_the_fence_are_not_read():
    row = _rows("Gemini3Pro_3D.jsonl")[0]
    trace = parse_trace(row["model_prediction"])
    assert len(trace) == 10
    np.testing.assert_allclose(trace.points[0], [372, 238, 1.82])
    np.testing.assert_allclose(trace.points[-1], [68, 162, 0.85])


def test_robotracer_tuples():
    trace = parse_trace("[(726, 624, 1.533), (738, 574, 1.499)]", require_depth=True)
    np.testing.assert_allclose(trace.points, [[726, 624, 1.533], [738, 574, 1.499]])
    assert trace.convention is CoordinateConvention.NORMALIZED_1000


def test_rft_answer_block_ignores_the_reasoning():
    text = "<think>start near (10, 20, 0.3) then (999, 999, 9)</think><answer>(100, 200, 0.5), (300, 400, 0.7)</answer>"
    answer = parse_answer(text)
    assert answer.format is AnswerFormat.RFT_ANSWER
    np.testing.assert_allclose(answer.trace.points, [[100, 200, 0.5], [300, 400, 0.7]])


def test_rft_answer_with_a_bracketed_list():
    trace = parse_trace("<think>ok</think>\n<answer>[(1, 2), (3, 4), (5, 6)]</answer>")
    assert trace.points.shape == (3, 2)


@pytest.mark.parametrize(
    "text",
    [
        '```json\n[[100, 200, 0.5], [300, 400, 0.7]]\n```',
        "```\n[[100, 200, 0.5], [300, 400, 0.7]]\n```",
        "[[100, 200, 0.5], [300, 400, 0.7]]",
        'Here: {"trajectory": [[100, 200, 0.5], [300, 400, 0.7]]} done',
        '```json\n{"points": [{"x": 100, "y": 200, "d": 0.5}, {"x": 300, "y": 400, "depth": 0.7}]}\n```',
        "The trace is [(100, 200, 0.5), (300, 400, 0.7)].",
        "```python\n[(100, 200, 0.5), (300, 400, 0.7)]\n```",
    ],
)
def test_json_and_fenced_forms(text):
    np.testing.assert_allclose(parse_trace(text).points, [[100, 200, 0.5], [300, 400, 0.7]])


def test_yx_order_for_gemini_robotics_er_points():
    text = '```json\n[{"point": [200, 100], "label": "start"}, {"point": [400, 300], "label": "end"}]\n```'
    np.testing.assert_allclose(parse_trace(text, order="yx").points, [[100, 200], [300, 400]])
    np.testing.assert_allclose(parse_trace(text).points, [[200, 100], [400, 300]])
    with pytest.raises(ValueError, match="valid: 'xy', 'yx'"):
        parse_trace(text, order="zx")


def test_pixel_coordinates_are_range_checked_against_the_image():
    trace = parse_trace("[(620, 470), (10, 5)]", convention=CoordinateConvention.PIXELS, image_size=(640, 480))
    assert trace.convention is CoordinateConvention.PIXELS
    np.testing.assert_allclose(trace.uv_normalized(), [[620 / 640 * 1000, 470 / 480 * 1000], [10 / 640 * 1000, 5 / 480 * 1000]])
    with pytest.raises(OutOfRangeError, match=r"\[0, 640\] x \[0, 480\]"):
        parse_trace("[(700, 10), (1, 1)]", convention="pixels", image_size=(640, 480))


def test_the_last_fenced_block_with_points_wins():
    text = "draft:\n```json\n[[1, 1], [2, 2]]\n```\nfinal:\n```json\n[[5, 5], [6, 6], [7, 7]]\n```"
    assert len(parse_trace(text)) == 3


@pytest.mark.parametrize(
    "text,error,message",
    [
        ("", EmptyAnswerError, "empty"),
        ("   \n", EmptyAnswerError, "empty"),
        ("I cannot see a cup.", NoTraceFoundError, "no list of points"),
        ("[(1, 2), (3, 4, 0.5)]", MixedDimensionsError, "mixes"),
        ("[[1, 2], [3, 4, 0.5]]", MixedDimensionsError, "mixes"),
        ("[(1, 2, nan), (3, 4, 0.5)]", NonFiniteError, "NaN"),
        ("[[1, 2, NaN], [3, 4, 0.5]]", NonFiniteError, "NaN"),
        ("[(1, 2, inf), (3, 4, 0.5)]", NonFiniteError, "NaN or infinite"),
        ("[(1, 2, 0.5), (1001, 4, 0.5)]", OutOfRangeError, "point 1"),
        ("[(1, -2, 0.5), (3, 4, 0.5)]", OutOfRangeError, "point 0"),
        ("[(1, 2, 0.0), (3, 4, 0.5)]", OutOfRangeError, "non-positive depth"),
        ("[(1, 2, 3, 4), (3, 4, 5, 6)]", MalformedPointError, "4 numbers"),
        ("[(1, two, 3), (3, 4, 5)]", MalformedPointError, "non-number 'two'"),
        ('```json\n{"note": "none"}\n```', NoTraceFoundError, "no list of points"),
        ("<answer></answer>", NoTraceFoundError, "answer"),
    ],
)
def test_typed_errors(text, error, message):
    with pytest.raises(error, match=message):
        parse_trace(text)
    assert issubclass(error, TraceParseError)


def test_depth_requirement_and_minimum_points():
    with pytest.raises(DepthMismatchError, match="no depth"):
        parse_trace("[(1, 2), (3, 4)]", require_depth=True)
    with pytest.raises(DepthMismatchError, match="2D trace"):
        parse_trace("[(1, 2, 1.0), (3, 4, 1.0)]", require_depth=False)
    with pytest.raises(TooFewPointsError, match="at least 2"):
        parse_trace("[(1, 2, 1.0)]", min_points=2)


def test_never_evaluates_the_text():
    with pytest.raises(TraceParseError):
        parse_trace("[(__import__('os').system('false'), 1)]")
