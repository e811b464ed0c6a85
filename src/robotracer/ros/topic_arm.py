"""An arm driven over ROS topics: the simulator (or any driver node) that takes ``/arm/joint_command``
position targets and ``/gripper/command``, and reports ``/joint_states``.

It implements the same robot contract as the in-process and real-robot drivers
(``get_observation``, ``send_action``, ``stop``), so the controller node does not care
which one it runs.
"""

from __future__ import annotations

import threading

import numpy as np
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64

from robotracer.ros import conversions as conv
from robotracer.ros import topics
from robotracer.ros.subscription_thread import SubscriptionThread


class TopicArm:
    """``thread``: the :class:`SubscriptionThread` that serves ``/joint_states`` (a new one if None)."""

    def __init__(
        self, node, joint_names: list[str], gripper_joint: str = "gripper", thread: SubscriptionThread | None = None
    ) -> None:
        self.node = node
        self.joint_names = list(joint_names)
        self.gripper_joint = gripper_joint
        self._lock = threading.Lock()
        self._positions: np.ndarray | None = None
        self._velocities = np.zeros(len(joint_names))
        self._gripper = 0.0
        self._stamp = 0.0
        self._got_state = threading.Event()
        self._cmd = node.create_publisher(JointState, topics.ARM_COMMAND, 10)
        self._grip = node.create_publisher(Float64, topics.GRIPPER_COMMAND, 10)
        # joint states arrive at up to the sim's 100 Hz: served off the node's own executor
        self._states = thread or SubscriptionThread(node, "joint_states")
        self._states.create_subscription(JointState, topics.JOINT_STATES, self._on_state, 10)

    def _on_state(self, msg: JointState) -> None:
        index = {n: i for i, n in enumerate(msg.name)}
        if not all(n in index for n in self.joint_names):
            return
        q = np.array([msg.position[index[n]] for n in self.joint_names])
        dq = np.array([msg.velocity[index[n]] for n in self.joint_names]) if msg.velocity else np.zeros(len(q))
        with self._lock:
            self._positions, self._velocities = q, dq
            if self.gripper_joint in index:
                self._gripper = float(msg.position[index[self.gripper_joint]])
            self._stamp = conv.time_to_seconds(msg.header.stamp)
        self._got_state.set()

    @property
    def is_connected(self) -> bool:
        return self._got_state.is_set()

    def connect(self, timeout_s: float = 5.0) -> None:
        if not self._got_state.wait(timeout_s):
            raise ConnectionError(f"no {topics.JOINT_STATES} with joints {self.joint_names} for {timeout_s:.0f} s")

    def disconnect(self) -> None:
        pass

    def get_observation(self) -> dict:
        with self._lock:
            if self._positions is None:
                raise ConnectionError(f"no joint state received yet on {topics.JOINT_STATES}")
            return {
                "positions": self._positions.copy(),
                "velocities": self._velocities.copy(),
                "gripper": self._gripper,
                "stamp": self._stamp,
            }

    def send_action(self, q: np.ndarray, gripper: float | None = None) -> dict:
        q = np.asarray(q, dtype=np.float64)
        if q.shape != (len(self.joint_names),) or not np.all(np.isfinite(q)):
            raise ValueError(f"arm target must be {len(self.joint_names)} finite numbers, got {q}")
        self._cmd.publish(conv.joint_state(self.joint_names, q, stamp=self.node.get_clock().now().to_msg()))
        if gripper is not None:
            self._grip.publish(Float64(data=float(np.clip(gripper, 0.0, 1.0))))
        return {"positions": q, "gripper": gripper}

    def stop(self) -> None:
        """Hold the current measured position."""
        obs = self.get_observation()
        self._cmd.publish(
            conv.joint_state(self.joint_names, obs["positions"], stamp=self.node.get_clock().now().to_msg())
        )
