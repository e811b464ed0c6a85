"""The tracer and lifter nodes take camera frames by stamp from their own subscriptions.

A test publisher stands in for the camera (a rendered tabletop frame); requests name the frame
by its stamp, carry it inline, or name one that never came (the node says so: ``frame_missing``).
"""

import time

import numpy as np
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def camera_frame():
    from robotracer.graph import load_graph
    from robotracer.sim.tabletop import TabletopConfig, TabletopSim

    p = load_graph("ur5").node("task_server").parameters
    sim = TabletopSim(TabletopConfig(camera_xyz=tuple(p["camera_xyz"]), camera_rpy=tuple(p["camera_rpy"])))
    try:
        yield sim.render(), sim.intrinsics
    finally:
        sim.close()


def _publish_frames(node, frame, intrinsics, stamps):
    """Publish the frame under each stamp (with labels, latched) as the simulator's camera does."""
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import CameraInfo, Image
    from std_msgs.msg import Header

    from robotracer.msg import LabelMap
    from robotracer.ros import conversions as conv
    from robotracer.ros import topics

    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    labels = node.create_publisher(LabelMap, topics.SEGMENTATION_LABELS, latched)
    labels.publish(conv.dict_to_label_map(frame.labels, "sim_ground_truth"))
    pubs = {
        topic: node.create_publisher(typ, topic, qos_profile_sensor_data)
        for topic, typ in ((topics.COLOR_IMAGE, Image), (topics.DEPTH_IMAGE, Image), (topics.CAMERA_INFO, CameraInfo), (topics.SEGMENTATION_IMAGE, Image))
    }
    time.sleep(2.0)  # discovery
    for stamp in stamps:
        header = Header(stamp=conv.seconds_to_time(stamp), frame_id="camera_color_optical_frame")
        pubs[topics.COLOR_IMAGE].publish(conv.numpy_to_image(frame.rgb, "rgb8", header))
        pubs[topics.DEPTH_IMAGE].publish(conv.numpy_to_image(frame.depth, "32FC1", header))
        pubs[topics.CAMERA_INFO].publish(conv.intrinsics_to_camera_info(intrinsics, header))
        pubs[topics.SEGMENTATION_IMAGE].publish(conv.numpy_to_image(frame.segmentation, "16UC1", header))
        time.sleep(0.1)


def _call(node, srv_type, name, request, timeout=30.0):
    client = node.create_client(srv_type, name)
    assert client.wait_for_service(timeout_sec=60.0), f"{name} not available"
    future = client.call_async(request)
    deadline = time.monotonic() + timeout
    while not future.done():
        assert time.monotonic() < deadline, f"{name} did not answer in {timeout} s"
        time.sleep(0.005)
    return future.result()


def test_tracer_and_lifter_find_the_frame_by_stamp_and_say_when_they_never_got_it(graph_without_camera, camera_frame):
    from robotracer.ros import conversions as conv
    from robotracer.ros import topics
    from robotracer.srv import InferTrace, LiftTrace

    node = graph_without_camera.node
    frame, intr = camera_frame
    instruction = "put the cup left of the plate"

    # a frame nobody published: a clear answer, not a guess and not a hang
    missing = _call(node, InferTrace, topics.TRACER_INFER, InferTrace.Request(instruction=instruction, frame_stamp=conv.seconds_to_time(99.0)))
    assert not missing.success and missing.frame_missing and "never reached the tracer" in missing.reason

    _publish_frames(node, frame, intr, stamps=[40.0, 40.1, 40.2])
    by_stamp = _call(node, InferTrace, topics.TRACER_INFER, InferTrace.Request(instruction=instruction, frame_stamp=conv.seconds_to_time(40.1)))
    assert by_stamp.success, by_stamp.reason
    assert conv.time_to_seconds(by_stamp.trace.header.stamp) == pytest.approx(40.1)
    assert by_stamp.trace.moved_object == "cup"

    # the same frame sent inline gives the same trace
    inline = InferTrace.Request(
        instruction=instruction,
        rgb=conv.numpy_to_image(frame.rgb, "rgb8", by_stamp.trace.header),
        depth=conv.numpy_to_image(frame.depth, "32FC1"),
        camera_info=conv.intrinsics_to_camera_info(intr),
        segmentation=conv.numpy_to_image(frame.segmentation, "16UC1"),
        labels=conv.dict_to_label_map(frame.labels, "sim_ground_truth"),
    )
    sent = _call(node, InferTrace, topics.TRACER_INFER, inline)
    assert sent.success and sent.raw_answer == by_stamp.raw_answer

    # the lifter: by the trace's stamp (empty camera_info), inline, and a stamp it never saw
    lifted = _call(node, LiftTrace, topics.LIFTER_LIFT, LiftTrace.Request(trace=by_stamp.trace))
    assert lifted.success, lifted.reason
    assert lifted.trace.header.frame_id == "base_link"
    inline_lift = _call(node, LiftTrace, topics.LIFTER_LIFT, LiftTrace.Request(
        trace=by_stamp.trace, depth=conv.numpy_to_image(frame.depth, "32FC1"), camera_info=conv.intrinsics_to_camera_info(intr),
    ))
    a = np.array([[p.position.x, p.position.y, p.position.z] for p in lifted.trace.points])
    b = np.array([[p.position.x, p.position.y, p.position.z] for p in inline_lift.trace.points])
    np.testing.assert_allclose(a, b, atol=1e-9)
    stray = by_stamp.trace
    stray.header.stamp = conv.seconds_to_time(98.0)
    gone = _call(node, LiftTrace, topics.LIFTER_LIFT, LiftTrace.Request(trace=stray))
    assert not gone.success and gone.frame_missing and "never reached the lifter" in gone.reason
