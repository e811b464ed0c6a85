"""``robotracer estop [--release]``: engage (or release) the software e-stop of a running graph.

The counterpart of ``ros2 topic pub --once /estop std_msgs/msg/Bool "{data: true}"``. Every controller
listening keeps the state it received until the opposite message comes.
"""

from __future__ import annotations

import time


def register(subparsers) -> None:
    p = subparsers.add_parser("estop", help="stop and hold the robot arm (software e-stop), or release it")
    p.add_argument("--release", action="store_true", help="release the e-stop instead of engaging it")
    p.add_argument("--wait", type=float, default=5.0, help="seconds to wait for a controller to receive it (default 5)")
    p.set_defaults(func=run)


def run(args) -> int:
    from robotracer.ros.node_runtime import configure_environment

    configure_environment()
    import rclpy

    from robotracer.ros.estop import publish_estop

    rclpy.init()
    node = rclpy.create_node("robotracer_estop_cli")
    try:
        pub = publish_estop(node, not args.release)
        deadline = time.monotonic() + args.wait
        while pub.get_subscription_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        state = "released" if args.release else "engaged"
        if pub.get_subscription_count() == 0:
            print(f"e-stop {state}, but no controller is listening on /estop (is the graph running?)")
            return 1
        time.sleep(0.5)  # let the reliable sample reach every subscriber before the node goes
        print(f"e-stop {state} ({pub.get_subscription_count()} listener(s) on /estop)")
        return 0
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
