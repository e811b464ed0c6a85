"""High-rate subscriptions on their own small node, spun by a single-threaded executor in a thread.

A node's ``MultiThreadedExecutor`` (needed by its long, blocking service and action callbacks)
costs a few times more CPU per message than a ``SingleThreadedExecutor``, and a 10-100 Hz
stream (camera frames, joint states) would wait behind those long callbacks. A
:class:`SubscriptionThread` gives such streams a companion node ``<node>_<suffix>`` (no
parameter services, no rosout) in the same process and context, with its own executor thread.
Topic remappings given to the process apply to it as to the main node.
"""

from __future__ import annotations

import threading


class SubscriptionThread:
    """A companion node for high-rate subscriptions, spinning until rclpy shuts down or :meth:`close`."""

    def __init__(self, node, suffix: str) -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor

        name = f"{node.get_name()}_{suffix}"
        # a local __node remap wins over a process-wide one (ros2 launch names nodes that way)
        self.node = rclpy.create_node(
            name,
            namespace=node.get_namespace(),
            context=node.context,
            cli_args=["--ros-args", "-r", f"__node:={name}"],
            start_parameter_services=False,
            enable_rosout=False,
        )
        self._executor = SingleThreadedExecutor(context=node.context)
        self._executor.add_node(self.node)
        self._thread = threading.Thread(target=self._spin, name=name, daemon=True)
        self._thread.start()

    def create_subscription(self, *args, **kwargs):
        """``Node.create_subscription`` on the companion node."""
        return self.node.create_subscription(*args, **kwargs)

    def create_service(self, *args, **kwargs):
        """``Node.create_service`` on the companion node: its requests are served on this thread."""
        return self.node.create_service(*args, **kwargs)

    def _spin(self) -> None:
        from rclpy.executors import ExternalShutdownException

        try:
            self._executor.spin()
        except ExternalShutdownException:
            pass
        except Exception as exc:  # rclpy shutting down under the executor
            if self.node.context.ok():
                self.node.get_logger().error(f"subscription thread stopped: {exc!r}")

    def close(self) -> None:
        self._executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()


def serve_clock_from(thread: SubscriptionThread, node) -> bool:
    """With ``use_sim_time``, take the node's ``/clock`` subscription onto ``thread``'s companion node.

    ``/clock`` arrives at the simulator's 100 Hz; served by the node's multi-threaded executor it
    costs several times more CPU than on the companion's single-threaded one. ``node.get_clock()``
    keeps following ``/clock`` exactly as before. Returns whether the subscription was moved
    (False with wall time, or when rclpy's time source is not the expected one).
    """
    from rclpy.time_source import TimeSource

    own = getattr(node, "_time_source", None)  # rclpy keeps it private; checked, not assumed
    clock = node.get_clock()
    if not isinstance(own, TimeSource) or not own.ros_time_is_active or getattr(own, "_clock_sub", None) is None:
        return False
    moved = TimeSource(node=thread.node)  # the companion's use_sim_time is unset: inactive until told
    moved._last_time_set = own._last_time_set
    moved.ros_time_is_active = True  # subscribes /clock on the companion
    moved.attach_clock(clock)  # the clock keeps its current time and stays on ROS time
    node.destroy_subscription(own._clock_sub)
    own._clock_sub = None
    own._associated_clocks.discard(clock)
    node._robotracer_clock_source = moved  # keep it alive with the node
    return True
