"""Building blocks of the geometric tracer: object grounding in a labelled segmentation, table plane, object extents."""

from __future__ import annotations

import numpy as np
import pytest

from raycast_tabletop import Shape, default_scene
from robotracer.perception import SIM_GROUND_TRUTH, GroundingError, SegmentationGrounder
from robotracer.perception.support import SupportPlaneError, fit_support_plane, measure_object

SCENE = default_scene()
OBS = SCENE.render()


def grounder(obs=OBS, **kw):
    return SegmentationGrounder.from_observation(obs, **kw)


def test_visible_objects_exclude_scenery_and_robot():
    g = grounder()
    assert g.visible_objects == ["cup", "plate", "bowl", "apple", "block"]
    assert g.is_ground_truth and OBS.label_source == SIM_GROUND_TRUTH
    assert not grounder(SCENE.render(label_source="detector")).is_ground_truth


def test_find_gives_the_mask_and_points_of_the_object():
    cup = grounder().find("the cup")
    assert cup.name == "cup"
    assert np.array_equal(cup.mask, OBS.segmentation == 3)
    assert cup.pixel_count == int((OBS.segmentation == 3).sum()) == cup.points.shape[0]
    world = SCENE.T_world_camera.apply(cup.points)
    assert np.all(np.hypot(world[:, 0] - 0.10, world[:, 1] + 0.05) < 0.04 + 1e-3)
    assert world[:, 2].max() == pytest.approx(0.10, abs=1e-3)
    c0, r0, c1, r1 = cup.bbox
    assert cup.mask[r0:r1 + 1, c0:c1 + 1].sum() == cup.pixel_count


@pytest.mark.parametrize("query, label", [("red cup", "cup"), ("Cup", "cup"), ("the big red plate", "plate")])
def test_tolerant_matching_more_specific_query(query, label):
    assert grounder().resolve(query) == label


def test_tolerant_matching_less_specific_query_and_ambiguity():
    obs = SCENE.render()
    labels = dict(obs.labels)
    labels[3] = "coffee_cup"
    g = grounder(type(obs)(obs.rgb, obs.depth, obs.intrinsics, obs.segmentation, labels, obs.label_source))
    assert g.resolve("cup") == "coffee cup"
    labels[4] = "red cup"
    g = grounder(type(obs)(obs.rgb, obs.depth, obs.intrinsics, obs.segmentation, labels, obs.label_source))
    with pytest.raises(GroundingError, match="'cup' could be any of: coffee cup, red cup; say which one"):
        g.resolve("cup")


def test_unknown_hidden_and_scenery_names_get_specific_errors():
    obs = SCENE.render()
    labels = {**obs.labels, 99: "mug_hidden"}
    g = grounder(type(obs)(obs.rgb, obs.depth, obs.intrinsics, obs.segmentation, labels, obs.label_source))
    with pytest.raises(GroundingError, match="^no object named 'mug' in view"):
        g.find("mug")  # labelled but out of view: never matched tolerantly
    with pytest.raises(GroundingError, match="the mug hidden is not visible"):
        g.find("mug_hidden")
    with pytest.raises(GroundingError, match="no object named 'spoon' in view; objects seen: cup, plate, bowl, apple, block$"):
        g.find("spoon")
    with pytest.raises(GroundingError, match="the table is part of the scene"):
        g.find("table")


def test_ids_with_one_name_form_one_object():
    obs = SCENE.render()
    labels = {**obs.labels, 7: "cup"}  # the block's pixels now also belong to "cup"
    g = grounder(type(obs)(obs.rgb, obs.depth, obs.intrinsics, obs.segmentation, labels, obs.label_source))
    cup = g.find("cup")
    assert cup.label_ids == (3, 7)
    assert cup.pixel_count == int(np.isin(obs.segmentation, [3, 7]).sum())
    assert "block" not in g.visible_objects


def test_missing_segmentation_is_an_error():
    with pytest.raises(GroundingError, match="segmentation"):
        SegmentationGrounder(None, {}, OBS.depth, OBS.intrinsics)


def test_table_plane_up_height_and_directions():
    plane = fit_support_plane(grounder().scene_points("table", 4))
    R = SCENE.T_world_camera.rotation  # world <- camera
    np.testing.assert_allclose(R @ plane.up, [0, 0, 1], atol=2e-3)
    np.testing.assert_allclose(R @ plane.right, [1, 0, 0], atol=2e-3)  # camera x on the table: world +x
    np.testing.assert_allclose(R @ plane.away, [0, 1, 0], atol=2e-3)  # away from the camera: world +y
    # the camera is 0.6 m above the table: its height above the plane at the origin is the offset
    assert plane.offset == pytest.approx(0.6, abs=2e-3)
    cam_T = SCENE.T_world_camera.inverse()
    corner_in = cam_T.apply([[0.40, 0.30, 0.0]])
    corner_out = cam_T.apply([[0.55, 0.30, 0.0]])
    assert plane.inside_distance(plane.to_plane(corner_in))[0] > 0
    assert plane.inside_distance(plane.to_plane(corner_out))[0] < 0
    np.testing.assert_allclose(plane.from_plane(plane.to_plane(corner_in), plane.height(corner_in)), corner_in, atol=1e-9)


def test_plane_fit_ignores_off_plane_points():
    rng = np.random.default_rng(1)
    table = np.column_stack([rng.uniform(-0.5, 0.5, 3000), rng.uniform(0.2, 0.4, 3000), rng.uniform(0.8, 1.5, 3000)])
    table[:, 1] = 0.3 + 0.2 * (table[:, 2] - 1.0)  # a tilted plane y = 0.3 + 0.2 (z - 1)
    side = np.column_stack([rng.uniform(-0.5, 0.5, 1000), rng.uniform(0.3, 0.6, 1000), np.full(1000, 0.8)])
    plane = fit_support_plane(np.vstack([table, side]))
    assert np.abs(plane.height(table)).max() < 1e-6
    assert plane.up[1] < 0  # toward the camera: up is -y (image up) here
    with pytest.raises(SupportPlaneError):
        fit_support_plane(table[:10])


@pytest.mark.parametrize("name", ["cup", "plate", "bowl", "apple", "block"])
def test_object_extent_matches_the_shape(name):
    g = grounder()
    plane = fit_support_plane(g.scene_points("table", 4))
    shape = SCENE.shape(name)
    ext = measure_object(name, g.find(name).points, plane)
    centre_world = SCENE.T_world_camera.apply(plane.from_plane(ext.centre[None], 0.0))[0]
    np.testing.assert_allclose(centre_world[:2], [shape.x, shape.y], atol=0.008)
    assert ext.height == pytest.approx(shape.height, abs=0.003)
    expected_r = shape.radius if shape.half_x is None else max(shape.half_x, shape.half_y)
    assert ext.radius == pytest.approx(expected_r, abs=0.006)
    assert ext.support_height == pytest.approx(shape.height, abs=0.003)  # solid shapes: the top


def test_flat_object_cannot_be_measured():
    scene = default_scene(shapes=(Shape("sticker", x=0.0, y=0.0, height=0.0005, radius=0.05),))
    obs = scene.render()
    g = grounder(obs)
    plane = fit_support_plane(g.scene_points("table", 4))
    with pytest.raises(SupportPlaneError, match="sticker"):
        measure_object("sticker", g.find("sticker").points, plane)


def test_column_percentiles_match_numpy():
    from robotracer.perception.support import column_percentiles

    rng = np.random.default_rng(0)
    for n in (1, 2, 3, 10, 1999):
        a = rng.normal(size=(n, 3))
        expected = np.percentile(a, [0.5, 98.0, 99.5], axis=0)
        np.testing.assert_allclose(column_percentiles(a, (0.5, 98.0, 99.5)), expected, rtol=0, atol=1e-12)


def test_label_mask_matches_isin_for_one_and_several_ids():
    from robotracer.perception import label_mask

    seg = np.random.default_rng(1).integers(0, 9, (48, 64)).astype(np.uint16)
    for ids in ([3], [3, 7], [2, 5, 8], []):
        np.testing.assert_array_equal(label_mask(seg, ids), np.isin(seg, ids))
