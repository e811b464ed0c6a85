"""A Python API over the ``/trace`` action (in the spirit of nav2_simple_commander): typed outcomes, timeouts."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class TraceOutcome:
    """What a ``/trace`` goal ended with."""

    accepted: bool
    success: bool
    reason: str
    failed_stage: str = ""
    raw_answer: str = ""
    trace_uvd: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # (N, 3) raw (u, v, d)
    trace_xyz: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # (N, 3) in frame_id
    frame_id: str = ""
    moved_object: str = ""
    timings: dict = field(default_factory=dict)
    status: str = ""  # succeeded | aborted | canceled | rejected | timeout

    def to_dict(self) -> dict:
        return {
            "accepted": self.accepted,
            "success": self.success,
            "status": self.status,
            "reason": self.reason,
            "failed_stage": self.failed_stage,
            "raw_answer": self.raw_answer,
            "moved_object": self.moved_object,
            "frame_id": self.frame_id,
            "trace_uvd": np.round(self.trace_uvd, 4).tolist(),
            "trace_xyz": np.round(self.trace_xyz, 4).tolist(),
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
        }


class TraceClient:
    """Send instructions to ``/trace`` from an rclpy node that is spun by an executor elsewhere."""

    def __init__(self, node, action_name: str | None = None) -> None:
        from rclpy.action import ActionClient

        from robotracer.action import Trace
        from robotracer.ros import topics

        self.node = node
        self._Trace = Trace
        self.client = ActionClient(node, Trace, action_name or topics.TRACE_ACTION)
        self._goal_handle = None

    def wait_for_server(self, timeout_s: float) -> bool:
        return self.client.wait_for_server(timeout_sec=timeout_s)

    def send(
        self,
        instruction: str,
        *,
        dry_run: bool = False,
        target_frame: str = "",
        robot: str = "",
        feedback=None,
        timeout_s: float = 300.0,
        cancel_after_s: float | None = None,
        cancel_when=None,
    ) -> TraceOutcome:
        """Send a goal and wait for its result.

        ``feedback(fb)`` is called with each ``Trace.Feedback``. ``cancel_after_s`` or
        ``cancel_when(fb) -> bool`` cancel the goal (used to stop the arm mid-motion).
        """
        from action_msgs.msg import GoalStatus

        from robotracer.ros import conversions as conv

        goal = self._Trace.Goal(instruction=instruction, dry_run=dry_run, target_frame=target_frame, robot=robot)
        cancel_now = threading.Event()

        def on_fb(msg):
            if feedback:
                feedback(msg.feedback)
            if cancel_when and cancel_when(msg.feedback):
                cancel_now.set()

        sent = self._in_executor(lambda: self.client.send_goal_async(goal, feedback_callback=on_fb), 10.0)
        if sent is None or not _wait(sent, 30.0):
            return TraceOutcome(False, False, "no answer from the /trace server within 30 s", status="timeout")
        handle = sent.result()
        if not handle.accepted:
            return TraceOutcome(
                False, False,
                "goal rejected by the /trace server: another goal is running (one goal at a time)",
                status="rejected",
            )
        self._goal_handle = handle
        result_future = self._in_executor(handle.get_result_async, 10.0)
        if result_future is None:
            return TraceOutcome(True, False, "could not request the goal's result from /trace", status="timeout")
        t0 = time.monotonic()
        canceled = False
        while not result_future.done():
            elapsed = time.monotonic() - t0
            if not canceled and (cancel_now.is_set() or (cancel_after_s is not None and elapsed > cancel_after_s)):
                self._in_executor(handle.cancel_goal_async, 10.0)
                canceled = True
            if elapsed > timeout_s:
                self._in_executor(handle.cancel_goal_async, 10.0)
                _wait(result_future, 10.0)
                return TraceOutcome(True, False, f"no result within {timeout_s:.0f} s; goal canceled", status="timeout")
            time.sleep(0.01)
        wrapped = result_future.result()
        res = wrapped.result
        status = {
            GoalStatus.STATUS_SUCCEEDED: "succeeded",
            GoalStatus.STATUS_ABORTED: "aborted",
            GoalStatus.STATUS_CANCELED: "canceled",
        }.get(wrapped.status, str(wrapped.status))
        uvd = np.array([[p.u, p.v, p.d] for p in res.trace.points]).reshape(-1, 3)
        xyz = np.array([[p.position.x, p.position.y, p.position.z] for p in res.trace.points]).reshape(-1, 3)
        return TraceOutcome(
            accepted=True,
            success=bool(res.success),
            reason=res.reason,
            failed_stage=res.failed_stage,
            raw_answer=res.raw_answer,
            trace_uvd=uvd,
            trace_xyz=xyz if res.trace.lifted else np.zeros((0, 3)),
            frame_id=res.trace.header.frame_id,
            moved_object=res.trace.moved_object,
            timings={t.stage: t.seconds for t in res.timings},
            status=status,
        )

    def cancel(self) -> None:
        if self._goal_handle is not None:
            self._in_executor(self._goal_handle.cancel_goal_async, 10.0)

    def _in_executor(self, call, timeout_s: float):
        """Run ``call()`` in the node's executor thread and return its result.

        rclpy's action client is not safe to drive from another thread: a reply that arrives
        while ``send_goal_async`` is still registering its future breaks the client
        ("list.remove(x): x not in list"). Calls made from the spinning thread cannot race.
        """
        executor = self.node.executor
        if executor is None:
            return call()
        task = executor.create_task(call)
        if not _wait(task, timeout_s):
            return None
        return task.result()


def _wait(future, timeout_s: float) -> bool:
    t0 = time.monotonic()
    while not future.done():
        if time.monotonic() - t0 > timeout_s:
            return False
        time.sleep(0.005)
    return True


def spin_in_background(node):
    """Spin ``node`` in a daemon thread; returns the executor (call ``shutdown()`` when done)."""
    from rclpy.executors import MultiThreadedExecutor

    executor = MultiThreadedExecutor(num_threads=4)
    executor.add_node(node)
    threading.Thread(target=executor.spin, daemon=True).start()
    return executor
