"""Checks on a running graph's robot motion, shared by the UR5e and G1 integration tests."""

from __future__ import annotations

import time

import numpy as np


def assert_arm_still_half_a_second_after(graph, sim_t0: float) -> None:
    """The arm's joints hold still from 0.5 s of sim time after ``sim_t0`` on.

    ``graph.joint_history()`` gives ``[(sim time, joint positions)]``.
    """
    time.sleep(3.0)
    settled = [q for t, q in graph.joint_history() if t >= sim_t0 + 0.5]
    assert len(settled) > 5, f"only {len(settled)} joint states after the stop"
    drift = np.max(np.abs(np.array(settled) - settled[0]))
    assert drift < 0.01, f"arm still moving {drift:.3f} rad after 0.5 s of sim time"


class EStopAtWaypoint:
    """A ``/trace`` feedback callback that engages the e-stop once execution reaches ``waypoint``.

    ``sim_time`` is the graph's sim time at that moment; :meth:`release` publishes the release.
    """

    def __init__(self, graph, waypoint: int) -> None:
        self.graph, self.waypoint = graph, waypoint
        self.sim_time: float | None = None
        self._pub = None

    @property
    def engaged(self) -> bool:
        return self._pub is not None

    def __call__(self, fb) -> None:
        from robotracer.ros.estop import publish_estop

        if fb.stage == "execute" and fb.current_waypoint >= self.waypoint and self._pub is None:
            self.sim_time = self.graph.sim_time
            self._pub = publish_estop(self.graph.node, True)

    def release(self) -> None:
        from std_msgs.msg import Bool

        if self._pub is not None:
            self._pub.publish(Bool(data=False))
