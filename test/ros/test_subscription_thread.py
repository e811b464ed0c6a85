"""Companion subscription threads: /clock served off a node's executor keeps its clock on sim time."""

import os
import time

import pytest

pytest.importorskip("robotracer.msg", reason="ROS interfaces not built")


def test_clock_served_from_the_companion_drives_the_node_clock():
    os.environ["ROS_DOMAIN_ID"] = str(200 + os.getpid() % 30)
    from robotracer.ros.node_runtime import configure_environment

    configure_environment()
    import rclpy
    from rclpy.parameter import Parameter
    from rosgraph_msgs.msg import Clock
    from std_msgs.msg import String

    from robotracer.ros.conversions import seconds_to_time
    from robotracer.ros.subscription_thread import SubscriptionThread, serve_clock_from

    rclpy.init()
    try:
        node = rclpy.create_node("clocked", parameter_overrides=[Parameter("use_sim_time", value=True)])
        wall = rclpy.create_node("wall_clocked")
        thread = SubscriptionThread(node, "fast")
        got = []
        thread.create_subscription(String, "/chatter_test", lambda m: got.append(m.data), 10)
        assert serve_clock_from(thread, node)
        assert not serve_clock_from(SubscriptionThread(wall, "fast"), wall)  # wall time: nothing to move
        assert node._time_source._clock_sub is None  # the node's own executor no longer takes /clock
        assert thread.node.get_name() == "clocked_fast"

        pub_node = rclpy.create_node("clock_publisher")
        clock_pub = pub_node.create_publisher(Clock, "/clock", 10)
        chatter = pub_node.create_publisher(String, "/chatter_test", 10)
        deadline = time.monotonic() + 20.0
        now = 0.0
        while time.monotonic() < deadline:
            clock_pub.publish(Clock(clock=seconds_to_time(123.5)))
            chatter.publish(String(data="hi"))
            time.sleep(0.05)
            now = node.get_clock().now().nanoseconds * 1e-9
            if now == pytest.approx(123.5) and got:
                break
        assert now == pytest.approx(123.5), f"node clock at {now} s, /clock says 123.5 s"
        assert got and got[0] == "hi"  # nobody spins `node`: the companion thread delivered these
        thread.close()
    finally:
        rclpy.try_shutdown()
