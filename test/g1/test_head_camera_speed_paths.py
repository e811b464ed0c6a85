"""The head camera's faster paths draw exactly the images of the plain ones: RGB and depth/segmentation in two
passes instead of three, geoms outside the view left out, and rendering in a separate process."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco
import numpy as np
import pytest

from robotracer.robots.g1 import joints as J
from robotracer.sim.camera import render_frame
from robotracer.sim.g1.camera import HeadCamera
from robotracer.sim.g1.camera_process import HeadCameraProcess
from robotracer.sim.g1.sim import G1Sim, MotorCommand


@pytest.fixture(scope="module")
def sim_with_arm_in_view():
    sim = G1Sim()
    q = J.STAND_POSTURE.copy()
    q[J.LEFT_ARM[0]] -= 0.9  # shoulder pitch: the left hand comes up in front of the head camera
    q[J.LEFT_ARM[3]] -= 0.5
    sim.set_arm_sdk(MotorCommand.hold(q, J.DEFAULT_KP, J.DEFAULT_KD), 1.0)
    sim.step(400)
    return sim


def _three_pass_reference(renderer: mujoco.Renderer, data: mujoco.MjData, camera_id: int, geom_label: np.ndarray):
    """RGB, depth and segmentation the way mujoco.Renderer's three modes draw them."""
    r, m = renderer, renderer.model
    r.update_scene(data, camera=camera_id)
    r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
    r.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
    rgb = r.render().copy()
    r.enable_depth_rendering()
    depth = r.render().astype(np.float32)
    r.disable_depth_rendering()
    depth[~np.isfinite(depth) | (depth >= m.stat.extent * m.vis.map.zfar * 0.999)] = 0.0
    r.enable_segmentation_rendering()
    raw = r.render()
    r.disable_segmentation_rendering()
    is_geom = (raw[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM)) & (raw[..., 0] >= 0)
    seg = np.zeros(raw.shape[:2], dtype=np.uint16)
    seg[is_geom] = geom_label[raw[..., 0][is_geom]]
    return rgb, depth, seg


def _assert_same_frame(frame, rgb, depth, seg):
    np.testing.assert_array_equal(frame.rgb, rgb)
    np.testing.assert_array_equal(frame.depth, depth)
    np.testing.assert_array_equal(frame.segmentation, seg)


def test_two_pass_render_frame_equals_the_renderers_three_modes(sim_with_arm_in_view):
    sim = sim_with_arm_in_view
    with HeadCamera(sim.scene) as cam:
        args = (cam._renderer, sim.data, cam._camera_id, cam._geom_label)
        frame = render_frame(*args, cam.labels, sim.time)
        _assert_same_frame(frame, *_three_pass_reference(*args))
        assert (frame.depth > 0).mean() > 0.9
        no_seg = render_frame(*args, cam.labels, sim.time, segmentation=False)
        assert no_seg.segmentation is None
        np.testing.assert_array_equal(no_seg.depth, frame.depth)


def test_culling_geoms_outside_the_view_changes_no_pixel(sim_with_arm_in_view):
    sim = sim_with_arm_in_view
    with HeadCamera(sim.scene) as cam:
        m = sim.model
        culled = cam.outside_view(sim.data)
        shown = m.geom_group < 3
        faces = np.where(m.geom_type == mujoco.mjtGeom.mjGEOM_MESH, m.mesh_facenum[m.geom_dataid], 0)
        assert faces[culled & shown].sum() > 0.5 * faces[shown].sum()  # legs, pelvis, the other arm
        groups = sim.model.geom_group.copy()
        frame = cam.render(sim.data)
        np.testing.assert_array_equal(sim.model.geom_group, groups)  # the model is left as it was
        _assert_same_frame(frame, *_three_pass_reference(cam._renderer, sim.data, cam._camera_id, cam._geom_label))
        robot = [i for i, name in frame.labels.items() if name == "robot"][0]
        assert (frame.segmentation == robot).sum() > 500  # the raised hand is in the picture


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_camera_process_renders_the_submitted_state_with_its_stamp(sim_with_arm_in_view):
    sim = sim_with_arm_in_view
    frames = []
    with HeadCameraProcess(sim.scene, on_frame=frames.append, render_threads=1) as camera:
        frame = camera.render(sim.data)
        assert frames and frames[-1] is frame
        assert camera.submit(sim.data, wait=0.0)  # idle: accepted
        assert not camera.submit(sim.data, wait=0.0)  # one frame in flight: refused, nothing queued
        camera.render(sim.data)
    assert frame.stamp == sim.time and len(frames) == 3
    # the worker draws qpos after position kinematics: the same as drawing that state here
    data = mujoco.MjData(sim.model)
    data.qpos[:], data.time = sim.data.qpos, sim.data.time
    mujoco.mj_fwdPosition(sim.model, data)
    with HeadCamera(sim.scene) as cam:
        expected = cam.render(data)
    _assert_same_frame(frame, expected.rgb, expected.depth, expected.segmentation)
    assert frame.labels == expected.labels
