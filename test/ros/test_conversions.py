"""Message <-> core conversions, tested by building messages (no ROS graph)."""

import math

import numpy as np
import pytest

pytest.importorskip("robotracer.msg", reason="ROS interfaces not built")

from robotracer.geometry.camera import Intrinsics  # noqa: E402
from robotracer.geometry.transforms import RigidTransform  # noqa: E402
from robotracer.ros import conversions as conv  # noqa: E402
from robotracer.trace.types import Trace, Trace3D  # noqa: E402


@pytest.mark.parametrize(
    "encoding, array",
    [
        ("rgb8", np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)),
        ("32FC1", np.random.default_rng(1).uniform(0.2, 3.0, (48, 64)).astype(np.float32)),
        ("16UC1", np.random.default_rng(2).integers(0, 9, (48, 64), dtype=np.uint16)),
    ],
)
def test_image_round_trip_is_exact(encoding, array):
    msg = conv.numpy_to_image(array, encoding)
    assert (msg.width, msg.height, msg.encoding) == (64, 48, encoding)
    np.testing.assert_array_equal(conv.image_to_numpy(msg), array)


def test_image_with_row_padding_and_nan_depth():
    depth = np.full((4, 5), np.nan, dtype=np.float32)
    depth[1, 2] = 1.25
    msg = conv.numpy_to_image(depth, "32FC1")
    padded = bytearray()
    raw = bytes(msg.data)
    for r in range(4):
        padded += raw[r * 20 : (r + 1) * 20] + b"\0" * 12
    msg.step, msg.data = 32, bytes(padded)
    out = conv.image_to_numpy(msg)
    assert out[1, 2] == np.float32(1.25) and np.isnan(out[0, 0])


def test_bad_images_raise_conversion_errors():
    with pytest.raises(conv.ConversionError, match="supported"):
        conv.numpy_to_image(np.zeros((2, 2)), "yuv422")
    msg = conv.numpy_to_image(np.zeros((4, 4), np.float32), "32FC1")
    msg.data = bytes(msg.data)[:10]
    with pytest.raises(conv.ConversionError, match="too short"):
        conv.image_to_numpy(msg)


def test_camera_info_round_trip():
    intr = Intrinsics(fx=600.0, fy=601.0, cx=319.5, cy=239.5, width=640, height=480)
    assert conv.camera_info_to_intrinsics(conv.intrinsics_to_camera_info(intr)) == intr
    with pytest.raises(conv.ConversionError, match="empty"):
        from sensor_msgs.msg import CameraInfo

        conv.camera_info_to_intrinsics(CameraInfo())


def test_trace_round_trip_with_lifted_positions():
    trace = Trace(np.array([[100, 200, 0.8], [150, 180, 0.7], [300, 220, 0.9]]), image_size=(640, 480))
    lifted = Trace3D(np.array([[0.4, 0.1, 0.05], [0.4, 0.0, 0.2], [0.5, -0.1, 0.05]]), "base_link")
    msg = conv.trace_to_msg(trace, instruction="put the cup left of the plate", source="geometric",
                            moved_object="cup", lifted=lifted)
    assert msg.lifted and msg.header.frame_id == "base_link" and msg.moved_object == "cup"
    assert (msg.image_width, msg.image_height) == (640, 480)
    np.testing.assert_allclose(conv.msg_to_trace(msg).points, trace.points)
    np.testing.assert_allclose(conv.msg_to_trace3d(msg).positions, lifted.positions)


def test_unlifted_or_nan_traces_are_refused():
    trace = Trace(np.array([[100, 200, 0.8], [150, 180, 0.7]]))
    msg = conv.trace_to_msg(trace)
    assert not msg.lifted and math.isnan(msg.points[0].position.x)
    with pytest.raises(conv.ConversionError, match="not lifted"):
        conv.msg_to_trace3d(msg)
    msg.lifted = True
    with pytest.raises(conv.ConversionError, match="NaN"):
        conv.msg_to_trace3d(msg)
    msg.points[0].u = float("nan")
    with pytest.raises(conv.ConversionError, match="NaN"):
        conv.msg_to_trace(msg)


def test_two_d_trace_keeps_no_depth():
    msg = conv.trace_to_msg(Trace(np.array([[1.0, 2.0], [3.0, 4.0]])))
    assert not conv.msg_to_trace(msg).has_depth


def test_markers_carry_named_poses_and_path_follows_trace():
    from std_msgs.msg import Header

    poses = {"cup": (np.array([0.4, 0.2, 0.0]), np.array([1.0, 0, 0, 0])), "plate": (np.array([0.5, 0, 0]), np.array([1.0, 0, 0, 0]))}
    back = conv.markers_to_poses(conv.poses_to_markers(poses, Header(frame_id="base_link")))
    assert set(back) == {"cup", "plate"}
    np.testing.assert_allclose(back["cup"][0], poses["cup"][0])
    t3 = Trace3D(np.array([[0, 0, 0], [0.1, 0, 0.1]]), "base_link")
    path = conv.trace3d_to_path(t3, Header())
    assert path.header.frame_id == "base_link" and len(path.poses) == 2
    markers = conv.trace3d_to_markers(t3, Header())
    assert len(markers.markers[0].points) == 2


def test_extrinsics_parameters_build_the_transform():
    T = conv.transform_from_params([1.3, 0.0, 0.55], [-2.1451, 0.0, 1.5708])
    ref = RigidTransform.from_xyz_rpy([1.3, 0.0, 0.55], [-2.1451, 0.0, 1.5708])
    np.testing.assert_allclose(T.matrix, ref.matrix)


def test_joint_trajectory_carries_names_times_and_positions():
    times = np.array([0.0, 0.1, 1.25])
    q = np.arange(9, dtype=float).reshape(3, 3)
    traj = conv.joint_trajectory(["a", "b", "c"], times, q)
    assert list(traj.joint_names) == ["a", "b", "c"]
    assert [p.time_from_start.sec + p.time_from_start.nanosec * 1e-9 for p in traj.points] == pytest.approx(times)
    np.testing.assert_array_equal([list(p.positions) for p in traj.points], q)
