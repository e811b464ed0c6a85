"""Camera frames kept serialised: stamps and pixels read from the bytes, messages decoded on use (no ROS graph)."""

import struct

import numpy as np
import pytest

pytest.importorskip("robotracer.msg", reason="ROS interfaces not built")

from builtin_interfaces.msg import Time  # noqa: E402
from rclpy.serialization import serialize_message  # noqa: E402
from sensor_msgs.msg import CameraInfo, Image  # noqa: E402

from robotracer.geometry.camera import Intrinsics  # noqa: E402
from robotracer.pipeline.frame_sync import FrameSynchronizer  # noqa: E402
from robotracer.ros import conversions as conv  # noqa: E402
from robotracer.ros.camera_frames import (  # noqa: E402
    CameraFrame,
    header_stamp_of_serialized,
    image_of_serialized,
    stamp_ns,
    time_of_ns,
)


@pytest.mark.parametrize("sec, nanosec", [(0, 0), (12, 345), (1764115200, 123456789), (3, 999_999_999)])
def test_stamp_read_from_the_serialized_header_is_exact(sec, nanosec):
    img = conv.numpy_to_image(np.zeros((4, 6, 3), np.uint8), "rgb8")
    img.header.stamp = Time(sec=sec, nanosec=nanosec)
    info = conv.intrinsics_to_camera_info(Intrinsics(500.0, 500.0, 3.0, 2.0, 6, 4))
    info.header.stamp = Time(sec=sec, nanosec=nanosec)
    for msg, typ in ((img, Image), (info, CameraInfo)):
        assert header_stamp_of_serialized(serialize_message(msg), typ) == sec * 1_000_000_000 + nanosec
    # wall-clock stamps survive the round trip through the key exactly (floats would lose nanoseconds)
    back = time_of_ns(stamp_ns(sec, nanosec))
    assert (back.sec, back.nanosec) == (sec, nanosec)


def test_plain_cdr_of_either_byte_order_is_read_in_place_others_decoded():
    img = conv.numpy_to_image(np.zeros((2, 2), np.float32), "32FC1")
    img.header.stamp = Time(sec=7, nanosec=500_000_000)
    raw = serialize_message(img)
    assert raw[:2] == b"\x00\x01"  # CDR little endian: read in place
    assert header_stamp_of_serialized(raw, Image) == 7_500_000_000
    big = b"\x00\x00\x00\x00" + struct.pack(">iI", 7, 250_000_000)
    assert header_stamp_of_serialized(big, Image) == 7_250_000_000
    # a parameter-list encapsulation is not read in place: the message is decoded to get it
    assert header_stamp_of_serialized(b"\x00\x03" + raw[2:], Image) == 7_500_000_000
    assert image_of_serialized(b"\x00\x03" + raw[2:]) is None


@pytest.mark.parametrize("frame_id", ["", "c", "camera_color_optical_frame", "abc"])
@pytest.mark.parametrize(
    "encoding, array",
    [
        ("rgb8", np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)),
        ("32FC1", np.random.default_rng(1).uniform(0.2, 3.0, (5, 7)).astype(np.float32)),
        ("16UC1", np.random.default_rng(2).integers(0, 9, (5, 7), dtype=np.uint16)),
    ],
)
def test_pixels_read_from_the_serialized_image_equal_the_decoded_message(frame_id, encoding, array):
    msg = conv.numpy_to_image(array, encoding)
    msg.header.frame_id = frame_id
    pixels, fid = image_of_serialized(serialize_message(msg))
    assert fid == frame_id and pixels.dtype == array.dtype
    np.testing.assert_array_equal(pixels, array)


def test_padded_rows_and_short_data_of_a_serialized_image():
    arr = np.arange(3 * 5, dtype=np.uint8).reshape(3, 5)
    msg = conv.numpy_to_image(arr, "mono8")
    msg.step = 8
    msg.data = np.pad(arr, ((0, 0), (0, 3))).tobytes()
    np.testing.assert_array_equal(image_of_serialized(serialize_message(msg))[0], arr)
    msg.data = msg.data[:-9]
    with pytest.raises(conv.ConversionError, match="too short"):
        image_of_serialized(serialize_message(msg))


def test_frame_decodes_each_stream_once_and_only_when_asked():
    rgb = np.random.default_rng(0).integers(0, 255, (4, 6, 3), dtype=np.uint8)
    depth = np.random.default_rng(1).uniform(0.5, 2.0, (4, 6)).astype(np.float32)
    sync = FrameSynchronizer(["rgb", "depth"], optional=["segmentation"])
    for stream, arr, enc in (("rgb", rgb, "rgb8"), ("depth", depth, "32FC1")):
        msg = conv.numpy_to_image(arr, enc)
        msg.header.stamp, msg.header.frame_id = Time(sec=1, nanosec=500_000_000), "cam"
        raw = serialize_message(msg)
        sync.add(stream, header_stamp_of_serialized(raw, Image), raw)
    frame = CameraFrame(sync.latest(), {"rgb": Image, "depth": Image, "segmentation": Image})
    assert frame.stamp == 1.5 and frame.has("rgb") and not frame.has("segmentation")
    assert (frame.time.sec, frame.time.nanosec) == (1, 500_000_000)
    assert frame.get("segmentation") is None and frame.array("segmentation") is None
    with pytest.raises(KeyError):
        frame["segmentation"]
    np.testing.assert_array_equal(frame.array("rgb"), rgb)
    np.testing.assert_array_equal(conv.image_to_numpy(frame["depth"]), depth)
    assert frame["depth"] is frame["depth"]  # decoded once
    header = frame.header("rgb")
    assert header.frame_id == "cam" and (header.stamp.sec, header.stamp.nanosec) == (1, 500_000_000)
