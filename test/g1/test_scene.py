"""G1 scene: compiles, stands, head camera renders RGB-D + segmentation consistent with the geometry."""

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np
import pytest

from robotracer.sim.g1.camera import HeadCamera
from robotracer.sim.g1.scene import G1SceneConfig, build_scene
from robotracer.sim.g1.sim import G1Sim


def test_scene_has_robot_table_objects_and_motor_maps():
    scene = build_scene(G1SceneConfig())
    assert scene.model.nu == 43  # 29 body motors + 2 x 7 Dex3
    assert len(set(scene.body_actuator)) == 29
    assert set(scene.hand_actuator) == {"left", "right"}
    assert scene.object_names == ("cup", "plate", "block", "apple")


def test_unknown_pelvis_mode_lists_choices():
    with pytest.raises(ValueError, match="free, fixed"):
        G1SceneConfig(pelvis_mode="floating")


def test_camera_frame_matches_geometry():
    sim = G1Sim()
    sim.step(100)
    with HeadCamera(sim.scene) as cam:
        frame = cam.render(sim.data)
        T_world_cam = cam.pose_in_world(sim.data)
    assert frame.rgb.shape == (480, 640, 3) and frame.rgb.dtype == np.uint8
    assert frame.depth.shape == (480, 640) and frame.depth.dtype == np.float32
    assert frame.segmentation.dtype == np.uint16
    ids = {name: i for i, name in frame.labels.items()}
    for name in ("cup", "plate", "block", "apple", "table"):
        assert (frame.segmentation == ids[name]).sum() > 100, f"{name} not visible in the head camera"
    # the cup's centre (mid-height) projects onto cup pixels, at the rendered depth
    centre = sim.object_position("cup") + np.array([0, 0, 0.045])
    p_cam = T_world_cam.inverse().apply(centre)
    (u, v), z = cam.intrinsics.project(p_cam)[0][0], cam.intrinsics.project(p_cam)[1][0]
    assert frame.segmentation[int(round(v)), int(round(u))] == ids["cup"]
    assert abs(frame.depth[int(round(v)), int(round(u))] - z) < 0.05


@pytest.mark.slow
def test_free_standing_stays_up_and_level():
    sim = G1Sim(G1SceneConfig(pelvis_mode="free"))
    worst_tilt, lowest = 0.0, 10.0
    for _ in range(40):  # 4 s
        sim.step(50)
        worst_tilt = max(worst_tilt, sim.pelvis_tilt())
        lowest = min(lowest, sim.pelvis_height())
    assert lowest > 0.72
    assert np.degrees(worst_tilt) < 4.0


def test_documented_head_camera_pose_matches_the_standing_robot():
    from scipy.spatial.transform import Rotation

    from robotracer.robots.g1.model import HEAD_CAMERA_RPY_IN_PELVIS, HEAD_CAMERA_XYZ_IN_PELVIS

    sim = G1Sim()
    sim.step(500)
    T = np.linalg.inv(sim.body_pose("pelvis")) @ sim.head_camera_pose()
    np.testing.assert_allclose(T[:3, 3], HEAD_CAMERA_XYZ_IN_PELVIS, atol=0.01)
    R_doc = Rotation.from_euler("xyz", HEAD_CAMERA_RPY_IN_PELVIS).as_matrix()
    angle = np.degrees(np.arccos(np.clip((np.trace(R_doc.T @ T[:3, :3]) - 1) / 2, -1, 1)))
    assert angle < 1.0
