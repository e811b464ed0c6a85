"""The software emergency stop every controller follows: ``/estop`` (std_msgs/Bool, latched).

``true`` engages it: a controller stops the arm where it is and holds it, aborts the trace it is
executing and refuses to plan or execute until ``false`` releases it. The topic is reliable and
transient-local: a controller that starts while a publisher holding ``true`` is alive sees the
stop at once. This is a software stop for the stack; a real robot's hardware e-stop stays the
safety device.
"""

from __future__ import annotations

import threading
from typing import Callable

ENGAGED_REASON = "e-stop engaged: arm stopped and holding (publish false on /estop to release it)"


def estop_qos():
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy

    return QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class EStopListener:
    """Follows ``/estop`` for a node; ``on_engage`` runs (in the subscription callback) each time it engages."""

    def __init__(self, node, on_engage: Callable[[], None] | None = None) -> None:
        from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
        from std_msgs.msg import Bool

        from robotracer.ros import topics

        self._engaged = threading.Event()
        self._on_engage = on_engage
        self._logger = node.get_logger()
        node.create_subscription(Bool, topics.ESTOP, self._on_msg, estop_qos(), callback_group=MutuallyExclusiveCallbackGroup())

    @property
    def engaged(self) -> bool:
        return self._engaged.is_set()

    def _on_msg(self, msg) -> None:
        if msg.data and not self._engaged.is_set():
            self._engaged.set()
            self._logger.warning("e-stop engaged: stopping and holding the arm")
            if self._on_engage is not None:
                self._on_engage()
        elif not msg.data and self._engaged.is_set():
            self._engaged.clear()
            self._logger.info("e-stop released")


def publish_estop(node, engaged: bool):
    """Publish the e-stop state once (latched); returns the publisher (keep it alive until delivered)."""
    from std_msgs.msg import Bool

    from robotracer.ros import topics

    pub = node.create_publisher(Bool, topics.ESTOP, estop_qos())
    pub.publish(Bool(data=bool(engaged)))
    return pub
