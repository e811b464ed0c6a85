"""The geometric tracer on real MuJoCo renders, checked against the simulator's object poses."""

from __future__ import annotations

import numpy as np
import pytest

from robotracer.sim.objects import object_kind
from robotracer.sim.tabletop import TabletopConfig, TabletopSim
from robotracer.trace.lifting import lift_trace
from robotracer.tracers.base import Observation, TracerError
from robotracer.tracers.geometric import GeometricTracer

pytestmark = pytest.mark.slow

TRACER = GeometricTracer()


@pytest.fixture(scope="module")
def sim():
    s = TabletopSim(TabletopConfig())
    yield s
    s.close()


def observe(sim: TabletopSim) -> Observation:
    f = sim.render()
    return Observation(f.rgb, f.depth, sim.intrinsics, f.segmentation, f.labels, "sim_ground_truth", f.stamp)


def camera_direction_on_table(sim: TabletopSim, axis_camera) -> np.ndarray:
    """``(2,)`` a camera-frame direction projected on the table (base xy), normalised."""
    d = sim.T_base_camera.rotation @ np.asarray(axis_camera, dtype=np.float64)
    return d[:2] / np.linalg.norm(d[:2])


def lifted(sim, obs, answer) -> np.ndarray:
    return lift_trace(answer.trace, obs.intrinsics, sim.T_base_camera, "base_link").positions


def radius(sim, name) -> float:
    return object_kind(sim.object_kinds[name]).radius


@pytest.mark.parametrize(
    "seed, instruction, moved, ref, camera_axis",
    [
        (None, "put the cup left of the plate", "cup", "plate", (-1, 0, 0)),
        (None, "put the apple 15 cm behind the plate", "apple", "plate", (0, 0, 1)),
        (None, "put the cup in front of the plate", "cup", "plate", (0, 0, -1)),
        (4, "put the cup left of the plate", "cup", "plate", (-1, 0, 0)),
        (6, "put the cup right of the apple", "cup", "apple", (1, 0, 0)),
        (7, "put the plate behind the bowl", "plate", "bowl", (0, 0, 1)),
    ],
)
def test_end_point_matches_ground_truth(sim, seed, instruction, moved, ref, camera_axis):
    sim.reset(seed)
    obs = observe(sim)
    answer = TRACER.infer(obs, instruction)
    w = lifted(sim, obs, answer)
    top = sim.object_top_center(moved)
    np.testing.assert_allclose(w[0], top, atol=0.015)  # the trace starts at the object's top centre
    col, row = np.round(answer.trace.uv_pixels(obs.intrinsics.width, obs.intrinsics.height)[0]).astype(int)
    assert obs.labels[int(obs.segmentation[row, col])] == moved

    ref_xy = sim.object_poses()[ref][0][:2]
    plan = TRACER.plan(obs, instruction)
    expected = plan.instruction.distance_m or radius(sim, ref) + radius(sim, moved) + TRACER.gap_m
    offset = w[-1, :2] - ref_xy
    direction = camera_direction_on_table(sim, camera_axis)
    assert offset @ direction == pytest.approx(expected, abs=0.02)  # the right side, the right distance
    assert abs(direction[0] * offset[1] - direction[1] * offset[0]) < 0.02  # and not off to a side
    assert w[-1, 2] == pytest.approx(top[2], abs=0.01)  # standing on the table again
    assert w[:, 2].max() >= top[2] + TRACER.clearance_m - 0.005


def test_destination_outside_the_camera_view_is_refused(sim):
    sim.reset(3)  # the plate stands near the image's left border
    with pytest.raises(TracerError, match="off the visible table"):
        TRACER.infer(observe(sim), "put the cup left of the plate")


def test_on_the_plate_ends_on_it(sim):
    sim.reset(None)
    obs = observe(sim)
    w = lifted(sim, obs, TRACER.infer(obs, "put the apple on the plate"))
    plate_xy = sim.object_poses()["plate"][0][:2]
    apple, plate = object_kind(sim.object_kinds["apple"]), object_kind(sim.object_kinds["plate"])
    np.testing.assert_allclose(w[-1, :2], plate_xy, atol=0.015)
    assert w[-1, 2] == pytest.approx(plate.height + apple.height, abs=0.012)


def test_infer_is_fast_on_a_640x480_frame(sim):
    sim.reset(None)
    obs = observe(sim)
    assert obs.depth.shape == (480, 640)
    import time

    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        TRACER.infer(obs, "put the cup left of the plate")
        times.append(time.perf_counter() - t0)
    assert min(times) < 0.05  # well inside the 50 ms budget of the whole non-execution pipeline
