"""The tabletop scene compiles, steps without simulator warnings, renders consistent RGB-D-segmentation."""

from __future__ import annotations

import numpy as np
import pytest

from robotracer.sim.tabletop import TabletopConfig, TabletopSim
from robotracer.sim.assets import AssetNotFoundError, find_model, ur5e_xml
from robotracer.sim.objects import CATALOGUE, add_object, add_table, object_kind

import mujoco  # noqa: E402  (after robotracer.sim, which selects headless rendering)


@pytest.fixture(scope="module")
def sim():
    s = TabletopSim(TabletopConfig(objects=tuple((k, k) for k in CATALOGUE)))
    yield s
    s.close()


def test_assets_found_and_missing_ones_explained():
    assert ur5e_xml().is_file()
    with pytest.raises(AssetNotFoundError, match="Searched"):
        find_model("no_such_robot/robot.xml")


def test_every_object_kind_stands_still_and_no_warnings(sim):
    sim.reset(None)
    before = sim.object_poses()
    sim.step(1000)
    for name, (p, _) in sim.object_poses().items():
        assert np.linalg.norm(p - before[name][0]) < 0.005, name
        assert sim.is_upright(name, 5.0), name
    assert sim.warnings() == {}


def test_arm_tracks_targets_and_gripper_closes(sim):
    sim.reset(None)
    q = sim.arm_positions() + np.array([0.2, -0.1, 0.1, 0.0, 0.1, 0.3])
    sim.set_arm_targets(q)
    sim.set_gripper(1.0)
    sim.step(1500)
    np.testing.assert_allclose(sim.arm_positions(), q, atol=0.02)
    assert sim.gripper_closure() > 0.9
    sim.set_gripper(0.0)
    sim.step(1000)
    assert sim.gripper_closure() < 0.1


def test_layouts_are_deterministic_reachable_and_non_overlapping():
    s = TabletopSim()
    try:
        for seed in range(5):
            layout = s.layout(seed)
            assert layout == s.layout(seed)
            names = list(layout)
            for i, a in enumerate(names):
                assert 0.35 <= np.hypot(*layout[a][:2]) <= 0.75
                for b in names[i + 1 :]:
                    gap = np.hypot(layout[a][0] - layout[b][0], layout[a][1] - layout[b][1])
                    ra, rb = object_kind(s.object_kinds[a]).radius, object_kind(s.object_kinds[b]).radius
                    assert gap >= ra + rb
        assert s.layout(0) != s.layout(1)
        s.reset(3)
        for name, (x, y, _) in s.layout(3).items():
            np.testing.assert_allclose(s.object_poses()[name][0][:2], (x, y), atol=0.005)
        # default layout: the cup is right of the plate as seen from the camera (image-left = base -y)
        s.reset(None)
        poses = s.object_poses()
        px, _ = s.intrinsics.project(s.T_base_camera.inverse().apply(np.stack([poses["cup"][0], poses["plate"][0]])))
        assert px[0, 0] > px[1, 0]
        assert poses["cup"][0][1] > poses["plate"][0][1]
    finally:
        s.close()


def test_render_depth_and_segmentation_agree_with_geometry(sim):
    sim.reset(None)
    frame = sim.render()
    H, W = sim.config.height, sim.config.width
    assert frame.rgb.shape == (H, W, 3) and frame.rgb.dtype == np.uint8
    assert frame.depth.shape == (H, W) and frame.depth.dtype == np.float32
    assert frame.segmentation.dtype == np.uint16
    assert {"table", "robot", "cup", "plate"} <= set(frame.labels.values())
    ids = {v: k for k, v in frame.labels.items()}
    T_cam_base = sim.T_base_camera.inverse()
    for name in ("plate", "apple", "block"):
        top = sim.object_top_center(name)
        (c, r), z = (a[0] for a in sim.intrinsics.project(T_cam_base.apply(top[None])))
        c, r = int(round(c)), int(round(r))
        assert frame.segmentation[r, c] == ids[name], name
        assert abs(frame.depth[r, c] - z) < 0.01, name  # metric z-depth of the visible top
    # a table pixel back-projects onto the table plane (z = 0 in base_link)
    rows, cols = np.nonzero(frame.segmentation == ids["table"])
    k = len(rows) // 2
    p_cam = sim.intrinsics.back_project(np.array([[cols[k], rows[k]]]), frame.depth[rows[k], cols[k]][None])
    assert abs(sim.T_base_camera.apply(p_cam)[0, 2]) < 0.005
    assert frame.stamp == pytest.approx(sim.time)


def test_object_builders_compose_into_any_scene():
    spec = mujoco.MjSpec()
    add_table(spec)
    for i, kind in enumerate(CATALOGUE):
        add_object(spec, kind, f"thing{i}", (0.4 * (i % 3) - 0.4, 0.3 * (i // 3) - 0.2, 0.75))
    model = spec.compile()
    assert model.nbody == 1 + 1 + len(CATALOGUE)
    with pytest.raises(KeyError, match="known kinds: apple"):
        add_object(spec, "mug", "m", (0, 0, 1))


def test_config_rejects_bad_values_with_choices():
    with pytest.raises(KeyError, match="known kinds"):
        TabletopConfig(objects=(("x", "mug"),))
    with pytest.raises(ValueError, match="unique"):
        TabletopConfig(objects=(("a", "cup"), ("a", "plate")))


def test_render_without_segmentation_keeps_rgb_and_depth(sim):
    full, fast = sim.render(), sim.render(segmentation=False)
    assert fast.segmentation is None
    np.testing.assert_array_equal(full.depth, fast.depth)
    np.testing.assert_array_equal(full.rgb, fast.rgb)
