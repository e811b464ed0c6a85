"""The weight-free geometric tracer on ray-cast synthetic tabletops (world z up, camera at -y)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from raycast_tabletop import Shape, default_scene
from robotracer.trace.lifting import lift_trace
from robotracer.tracers.base import Observation, TracerError, make_tracer
from robotracer.tracers.geometric import GeometricTracer

SCENE = default_scene()
OBS = SCENE.render()
TRACER = GeometricTracer()
CLEARANCE = TRACER.clearance_m


def world_trace(answer, scene=SCENE, obs=OBS) -> np.ndarray:
    """``(N, 3)`` trace points in the world frame, lifted with the trace's own depth."""
    return lift_trace(answer.trace, obs.intrinsics, scene.T_world_camera, "world").positions


def pixel(answer, i, obs=OBS) -> np.ndarray:
    return answer.trace.uv_pixels(obs.intrinsics.width, obs.intrinsics.height)[i]


def label_id(name, obs=OBS) -> int:
    return next(i for i, n in obs.labels.items() if n == name)


def check_format(answer):
    assert answer.backend == "geometric"
    assert 6 <= len(answer.trace) <= 12
    assert answer.trace.has_depth
    uv = answer.trace.uv
    assert np.all((uv >= 0) & (uv <= 1000))
    assert np.all(answer.trace.depth > 0)
    assert answer.text.startswith("[(") and answer.text.count("(") == len(answer.trace)


def check_clearance(points, moved: Shape, scene=SCENE):
    """Every waypoint above another object's (grown) footprint carries the moved object's bottom clear of it."""
    for p in points[1:-1]:
        bottom = p[2] - moved.height
        for s in scene.shapes:
            if s.name == moved.name:
                continue
            r = s.radius if s.half_x is None else np.hypot(s.half_x, s.half_y)
            if np.hypot(p[0] - s.x, p[1] - s.y) < r + moved.radius:
                assert bottom >= s.height + CLEARANCE - 0.01, (p, s.name)


def test_left_of_plate_end_point_image_metric_and_start_on_cup():
    answer = TRACER.infer(OBS, "put the cup left of the plate")
    check_format(answer)
    assert answer.moved_object == "cup"
    cup, plate = SCENE.shape("cup"), SCENE.shape("plate")
    w = world_trace(answer)

    # start: on the cup in the image, at its top centre in 3D
    col, row = np.round(pixel(answer, 0)).astype(int)
    assert OBS.segmentation[row, col] == label_id("cup")
    np.testing.assert_allclose(w[0], cup.top_center, atol=0.015)

    # end: left of the plate in the image ...
    plate_cols = np.nonzero(OBS.segmentation == label_id("plate"))[1]
    assert pixel(answer, -1)[0] < plate_cols.min()
    # ... and metrically: plate radius + cup radius + gap to the left, at the cup's height on the table
    expected = np.array([plate.x - (plate.radius + cup.radius + TRACER.gap_m), plate.y, cup.height])
    np.testing.assert_allclose(w[-1], expected, atol=0.015)

    # lift straight up, carry, lower straight down; clear of everything on the way
    np.testing.assert_allclose(w[1, :2], w[0, :2], atol=0.005)
    np.testing.assert_allclose(w[-2, :2], w[-1, :2], atol=0.005)
    assert w[:, 2].max() >= cup.height + plate.height + CLEARANCE - 0.01
    check_clearance(w, cup)


def test_requested_distance_is_centre_to_centre():
    w = world_trace(TRACER.infer(OBS, "put the cup 20 cm left of the plate"))
    plate = SCENE.shape("plate")
    assert np.hypot(w[-1, 0] - plate.x, w[-1, 1] - plate.y) == pytest.approx(0.20, abs=0.012)
    assert w[-1, 0] < plate.x


@pytest.mark.parametrize(
    "instruction, axis, sign",
    [
        ("put the cup right of the plate", 0, +1),
        ("put the cup in front of the plate", 1, -1),  # toward the camera (world -y)
        ("put the cup behind the plate", 1, +1),
    ],
)
def test_directions_follow_the_camera_view(instruction, axis, sign):
    answer = TRACER.infer(OBS, instruction)
    check_format(answer)
    w = world_trace(answer)
    plate, cup = SCENE.shape("plate"), SCENE.shape("cup")
    offset = w[-1, :2] - np.array([plate.x, plate.y])
    assert sign * offset[axis] == pytest.approx(plate.radius + cup.radius + TRACER.gap_m, abs=0.015)
    assert abs(offset[1 - axis]) < 0.015
    assert w[-1, 2] == pytest.approx(cup.height, abs=0.01)
    check_clearance(w, cup)


def test_on_the_plate_ends_on_its_surface():
    w = world_trace(TRACER.infer(OBS, "put the apple on the plate"))
    apple, plate = SCENE.shape("apple"), SCENE.shape("plate")
    np.testing.assert_allclose(w[-1], [plate.x, plate.y, plate.height + apple.height], atol=0.015)
    np.testing.assert_allclose(w[0], apple.top_center, atol=0.015)
    assert w[-2, 2] >= plate.height + apple.height + CLEARANCE - 0.01  # lowered onto it from above


def test_into_the_bowl_clears_the_rim_and_ends_at_its_centre():
    w = world_trace(TRACER.infer(OBS, "put the apple into the bowl"))
    apple, bowl = SCENE.shape("apple"), SCENE.shape("bowl")
    np.testing.assert_allclose(w[-1, :2], [bowl.x, bowl.y], atol=0.015)
    assert w[-1, 2] == pytest.approx(bowl.height + apple.height, abs=0.015)  # a solid bowl: its top is the support
    assert w[-2, 2] - apple.height >= bowl.height + CLEARANCE - 0.01
    check_clearance(w, apple)


def test_into_something_too_small_is_refused():
    with pytest.raises(TracerError, match="does not fit in the apple"):
        TRACER.infer(OBS, "put the bowl into the apple")


def test_between_two_objects_ends_at_the_midpoint():
    scene = default_scene(shapes=(
        Shape("cup", x=-0.25, y=0.0, height=0.10, radius=0.04),
        Shape("plate", x=0.15, y=0.05, height=0.02, radius=0.08),
        Shape("block", x=0.0, y=-0.20, height=0.05, half_x=0.025, half_y=0.025),
    ))
    obs = scene.render()
    answer = TRACER.infer(obs, "put the block between the cup and the plate")
    check_format(answer)
    w = world_trace(answer, scene, obs)
    np.testing.assert_allclose(w[-1], [-0.05, 0.025, 0.05], atol=0.015)


def test_next_to_picks_the_free_side_nearest_the_object():
    w = world_trace(TRACER.infer(OBS, "put the cup next to the bowl"))
    cup, bowl = SCENE.shape("cup"), SCENE.shape("bowl")
    # the cup stands in front of / left of the bowl: "in front of" is the nearest side
    np.testing.assert_allclose(w[-1, :2], [bowl.x, bowl.y - (bowl.radius + cup.radius + TRACER.gap_m)], atol=0.015)


def test_a_tall_object_on_the_way_raises_the_carry_height():
    shapes = (*SCENE.shapes, Shape("bottle", x=0.02, y=0.0, height=0.22, radius=0.03))
    scene = default_scene(shapes=shapes)
    obs = scene.render()
    w = world_trace(TRACER.infer(obs, "put the cup left of the plate"), scene, obs)
    assert w[:, 2].max() >= 0.22 + CLEARANCE + 0.10 - 0.01
    check_clearance(w, scene.shape("cup"), scene)


def test_unknown_object_lists_only_the_objects_in_view():
    with pytest.raises(TracerError) as info:
        TRACER.infer(OBS, "put the mug left of the plate")
    assert str(info.value) == "no object named 'mug' in view; objects seen: cup, plate, bowl, apple, block"


def test_adjectives_are_matched_to_the_one_fitting_label():
    assert TRACER.infer(OBS, "Please put the red cup to the left of the plate.").moved_object == "cup"


def test_moved_object_equal_to_reference_is_refused():
    with pytest.raises(TracerError, match="relative to itself"):
        TRACER.infer(OBS, "put the red cup left of the cup")


def test_destination_off_the_table_is_refused():
    with pytest.raises(TracerError, match="off the visible table"):
        TRACER.infer(OBS, "put the cup 45 cm left of the plate")


def test_destination_overhanging_the_table_edge_is_refused():
    # plate at x = -0.05: 38 cm left puts the cup's centre 2 cm inside the edge (cup radius 4 cm)
    with pytest.raises(TracerError, match="overhang"):
        TRACER.infer(OBS, "put the cup 38 cm left of the plate")


def test_destination_on_another_object_is_refused():
    with pytest.raises(TracerError, match="would touch the plate"):
        TRACER.infer(OBS, "put the cup 10 cm left of the plate")  # closer than the two radii
    scene = default_scene(shapes=(*SCENE.shapes, Shape("can", x=-0.23, y=0.05, height=0.12, radius=0.03)))
    with pytest.raises(TracerError, match="would touch the can"):
        TRACER.infer(scene.render(), "put the cup left of the plate")


def test_bad_instruction_is_refused_with_an_example():
    with pytest.raises(TracerError, match="put the cup 10 cm left of the plate"):
        TRACER.infer(OBS, "put it over there")


def test_no_segmentation_or_no_table_is_refused():
    bare = Observation(OBS.rgb, OBS.depth, OBS.intrinsics)
    with pytest.raises(TracerError, match="segmentation"):
        TRACER.infer(bare, "put the cup left of the plate")
    seg = OBS.segmentation.copy()
    seg[seg == label_id("table")] = 0
    no_table = dataclasses.replace(OBS, segmentation=seg)
    with pytest.raises(TracerError, match="no table in view"):
        TRACER.infer(no_table, "put the cup left of the plate")


def test_registry_builds_it_with_parameters_and_validates_them():
    tracer = make_tracer("geometric", num_points=11, clearance_m=0.08)
    answer = tracer.infer(OBS, "put the cup left of the plate")
    assert len(answer.trace) == 11
    w = world_trace(answer)
    assert w[:, 2].max() == pytest.approx(0.02 + 0.08 + 0.10, abs=0.012)
    for bad in (dict(num_points=5), dict(num_points=13), dict(clearance_m=-0.1)):
        with pytest.raises(ValueError):
            GeometricTracer(**bad)


def test_answer_is_deterministic():
    a = TRACER.infer(OBS, "put the cup left of the plate")
    b = TRACER.infer(OBS, "put the cup left of the plate")
    assert a.text == b.text


ALL_KINDS_OF_GOALS = [
    "put the cup left of the plate",
    "put the cup 10 cm behind the plate",
    "put the apple on the plate",
    "put the apple in the bowl",
    "put the cup between the plate and the bowl",
    "put the apple next to the block",
    "put the mug left of the plate",  # unknown object
    "put the cup left of the cup",  # relative to itself
    "put the cup on the bowl",  # refused placement
    "put it over there",  # unparseable
]


@pytest.mark.parametrize("instruction", ALL_KINDS_OF_GOALS)
def test_a_scene_perceived_beforehand_gives_the_same_answer_or_the_same_error(instruction):
    scene = TRACER.perceive(OBS)
    assert set(scene.extents) == {"cup", "plate", "bowl", "apple", "block"} and scene.plane is not None
    try:
        direct = TRACER.infer(OBS, instruction).text
    except TracerError as exc:
        direct = f"error: {exc}"
    try:
        prepared = TRACER.infer(OBS, instruction, scene=scene).text
    except TracerError as exc:
        prepared = f"error: {exc}"
    assert prepared == direct


def test_what_cannot_be_perceived_is_recorded_and_raised_when_a_goal_needs_it():
    bare = TRACER.perceive(Observation(OBS.rgb, OBS.depth, OBS.intrinsics))
    assert bare.grounder is None and "segmentation" in bare.failures["segmentation"]
    with pytest.raises(TracerError, match="segmentation"):
        TRACER.infer(OBS, "put the cup left of the plate", scene=bare)
    seg = OBS.segmentation.copy()
    seg[seg == label_id("table")] = 0
    no_table = TRACER.perceive(dataclasses.replace(OBS, segmentation=seg))
    assert no_table.plane is None and "no table in view" in no_table.failures["table"]
    with pytest.raises(TracerError, match="no cup in view|no object named 'mug'"):
        TRACER.infer(OBS, "put the mug left of the plate", scene=no_table)  # names are checked first
    with pytest.raises(TracerError, match="no table in view"):
        TRACER.infer(OBS, "put the cup left of the plate", scene=no_table)
