"""Camera frames kept serialised: stamps read from the bytes, frames decoded on use (no ROS graph)."""

import struct

import numpy as np
import pytest

pytest.importorskip("robotracer.msg", reason="ROS interfaces not built")

from rclpy.serialization import serialize_message  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402

from robotracer.geometry.camera import Intrinsics  # noqa: E402
from robotracer.pipeline.frame_sync import FrameSynchronizer  # noqa: E402
from robotracer.ros import conversions as conv  # noqa: E402
from robotracer.ros.camera_frames import CameraFrame, header_stamp_of_serialized  # noqa: E402


@pytest.mark.parametrize("stamp", [0.0, 12.000000345, 1764115200.25, 3.999999999])
def test_stamp_read_from_the_serialized_header_matches_the_message(stamp):
    img = conv.numpy_to_image(np.zeros((4, 6, 3), np.uint8), "rgb8")
    img.header.stamp = conv.seconds_to_time(stamp)
    info = conv.intrinsics_to_camera_info(Intrinsics(500.0, 500.0, 3.0, 2.0, 6, 4))
    info.header.stamp = conv.seconds_to_time(stamp)
    for msg, typ in ((img, Image), (info, CameraInfo)):
        assert header_stamp_of_serialized(serialize_message(msg), typ) == conv.time_to_seconds(msg.header.stamp)


def test_plain_cdr_of_either_byte_order_is_read_in_place_others_decoded():
    img = conv.numpy_to_image(np.zeros((2, 2), np.float32), "32FC1")
    img.header.stamp = conv.seconds_to_time(7.5)
    raw = serialize_message(img)
    assert raw[:2] == b"\x00\x01"  # CDR little endian: read in place
    assert header_stamp_of_serialized(raw, Image) == 7.5
    # big-endian plain CDR is read in place too (only the encapsulation and the stamp are looked at)
    big = b"\x00\x00\x00\x00" + struct.pack(">iI", 7, 250_000_000)
    assert header_stamp_of_serialized(big, Image) == 7.25
    # a parameter-list encapsulation is not read in place: the message is decoded to get it
    assert header_stamp_of_serialized(b"\x00\x03" + raw[2:], Image) == 7.5


def test_frame_decodes_each_stream_once_and_only_when_asked():
    rgb = np.random.default_rng(0).integers(0, 255, (4, 6, 3), dtype=np.uint8)
    depth = np.random.default_rng(1).uniform(0.5, 2.0, (4, 6)).astype(np.float32)
    sync = FrameSynchronizer(["rgb", "depth"], optional=["segmentation"])
    for stream, arr, enc in (("rgb", rgb, "rgb8"), ("depth", depth, "32FC1")):
        msg = conv.numpy_to_image(arr, enc)
        msg.header.stamp = conv.seconds_to_time(1.5)
        raw = serialize_message(msg)
        sync.add(stream, header_stamp_of_serialized(raw, Image), raw)
    frame = CameraFrame(sync.latest(), {"rgb": Image, "depth": Image, "segmentation": Image})
    assert frame.stamp == 1.5 and frame.has("rgb") and not frame.has("segmentation")
    assert frame.get("segmentation") is None
    with pytest.raises(KeyError):
        frame["segmentation"]
    np.testing.assert_array_equal(conv.image_to_numpy(frame["rgb"]), rgb)
    np.testing.assert_array_equal(conv.image_to_numpy(frame["depth"]), depth)
    assert frame["depth"] is frame["depth"]  # decoded once
