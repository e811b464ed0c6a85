"""Live pre-execution checks on synthetic tabletop depth frames."""

from __future__ import annotations

import time

import numpy as np
import pytest

from robotracer.trace.types import Trace3D
from robotracer.validation import ValidationParams, WorkspaceBounds, validate_trace
from robotracer.validation.checks import densify
from robotracer.validation.synthetic import render_depth, tabletop

WORKSPACE = WorkspaceBounds(lower=(0.0, -0.6, -0.1), upper=(1.0, 0.6, 0.8), table_height=0.0, min_height_above_table=0.0)


@pytest.fixture(scope="module")
def frame():
    boxes, K, T = tabletop()
    depth, label = render_depth(boxes, K, T)
    names = [b.name for b in boxes]
    return {"boxes": dict(zip(names, boxes)), "depth": depth, "mask": label == names.index("cup"), "K": K, "T": T}


def _validate(frame, waypoints, **kwargs):
    trace = Trace3D(np.asarray(waypoints, dtype=float), "base_link")
    return validate_trace(trace, frame["depth"], frame["K"], frame["T"], frame["mask"], WORKSPACE, **kwargs)


def _good(frame):
    start = frame["boxes"]["cup"].top_centre  # (0.40, -0.15, 0.10)
    end = frame["boxes"]["plate"].top_centre + [0.0, 0.0, 0.10]  # cup (0.1 tall) resting on the plate
    return [start, start + [0, 0, 0.2], [0.40, 0.05, 0.36], end + [0, 0, 0.15], end]


def test_scene_sees_the_cup(frame):
    assert frame["mask"].sum() > 500
    assert (frame["depth"] > 0).mean() > 0.7


def test_good_trace_passes(frame):
    report = _validate(frame, _good(frame))
    assert report.ok, report.reason
    assert report.reason == ""
    assert [c.name for c in report.checks] == ["workspace bounds", "start-on-object", "end-at-destination", "swept-object collision"]
    assert abs(report.check("end-at-destination").values["gap"]) < 0.03


def test_trace_through_the_table_is_rejected(frame):
    start = frame["boxes"]["cup"].top_centre
    wp = _good(frame)
    path = [start, start + [0.15, 0.0, -0.1], start + [0.3, 0.1, -0.1], wp[-1] + [0, 0, 0.1], wp[-1]]
    report = _validate(frame, path)
    assert not report.ok
    assert report.failures[0].name == "swept-object collision"
    assert report.reason.startswith("swept-object collision: ")
    assert "(limit 20%)" in report.reason and report.check("swept-object collision").values["waypoint"] in (1, 2)


def test_trace_into_another_object_is_rejected(frame):
    start = frame["boxes"]["cup"].top_centre
    end = _good(frame)[-1]
    path = [start, start + [0, 0, 0.05], [0.40, 0.05, 0.15], end + [0, 0, 0.05], end]
    report = _validate(frame, path)
    assert [f.name for f in report.failures] == ["swept-object collision"]
    assert report.check("swept-object collision").values["waypoint"] in (1, 2)


def test_trace_ending_in_mid_air_is_rejected(frame):
    path = _good(frame)[:-1] + [[0.40, 0.25, 0.45]]
    report = _validate(frame, path)
    assert [f.name for f in report.failures] == ["end-at-destination"]
    assert "mid-air" in report.reason and "above the surface" in report.reason


def test_trace_ending_inside_a_surface_is_rejected(frame):
    path = _good(frame)[:-1] + [frame["boxes"]["plate"].top_centre + [0, 0, 0.03]]  # bottom 7 cm into the plate
    report = _validate(frame, path)
    assert "end-at-destination" in [f.name for f in report.failures]
    assert "below the surface" in report.check("end-at-destination").message


def test_trace_leaving_the_workspace_is_rejected(frame):
    start = frame["boxes"]["cup"].top_centre
    path = [start, start + [0, 0, 0.2], [0.40, 0.75, 0.3], _good(frame)[-1] + [0, 0, 0.1], _good(frame)[-1]]
    report = _validate(frame, path)
    assert report.failures[0].name == "workspace bounds"
    assert "after waypoint 1" in report.reason


def test_trace_not_starting_on_the_object_is_rejected(frame):
    path = _good(frame)
    path[0] = np.array([0.70, -0.35, 0.10])
    report = _validate(frame, path)
    assert report.failures[0].name == "start-on-object"
    assert "limit 0.050 m" in report.reason


def test_missing_mask_skips_object_checks_and_says_so(frame):
    trace = Trace3D(np.asarray(_good(frame)), "base_link")
    report = validate_trace(trace, frame["depth"], frame["K"], frame["T"], None, WORKSPACE)
    assert report.check("start-on-object").values == {"skipped": True}
    assert "skipped" in report.check("start-on-object").message


def test_densify_keeps_waypoints_and_spacing():
    P = np.array([[0.0, 0, 0], [0.1, 0, 0], [0.1, 0.05, 0]])
    pts, seg = densify(P, 0.02)
    assert np.all(np.linalg.norm(np.diff(pts, axis=0), axis=1) <= 0.02 + 1e-12)
    for w in P:
        assert np.min(np.linalg.norm(pts - w, axis=1)) < 1e-12
    assert seg[0] == 0 and seg[-1] == 1


def test_validation_is_fast_enough_for_the_live_guard(frame):
    path = _good(frame)
    _validate(frame, path)
    t0 = time.perf_counter()
    for _ in range(5):
        _validate(frame, path)
    per_trace = (time.perf_counter() - t0) / 5
    assert per_trace < 0.1  # target 30 ms on an idle core (benchmarks/bench_validation.py); slack for shared CI
