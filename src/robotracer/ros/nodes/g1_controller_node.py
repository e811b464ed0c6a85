"""G1 controller node: plans and executes lifted traces with one G1 arm through unitree_sdk2py.

The same contract as the UR5e controller, so the task server drives either unchanged:
``/controller/plan_trace`` (robotracer/srv/PlanTrace: IK along every waypoint, no motion) and the
``/controller/execute_trace`` action (robotracer/action/ExecuteTrace; feedback ``phase`` = the
plan segment — reach, over, approach, carry, retreat, home —, ``current_waypoint`` = its index,
``progress`` 0..1). Traces must be in the ``pelvis`` frame. The robot is reached only through
:class:`~robotracer.robots.g1.driver.G1Driver` (``rt/lowstate``, ``rt/arm_sdk`` with its fade-in
weight, ``rt/dex3/*``) on ``sdk_domain_id`` / ``sdk_interface``: the simulation bridge or the real
G1. Cancel holds the arm where it stopped; the legs never leave the standing controller. The
e-stop (``/estop``, std_msgs/Bool, latched) does the same, aborts the running trace and refuses
plans and executions until it is released. A held arm stays under arm-SDK control (weight 1)
until the next trace or ``/controller/release_arm`` (std_srvs/Trigger), which fades the weight
out and hands the arm back to the standing controller (the arm moves to its standing posture).
"""

from __future__ import annotations

import threading

import numpy as np

from robotracer.ros.node_runtime import NodeStartupError, declare_parameters, run_node

DEFAULTS = {
    "sdk_domain_id": 1,
    "sdk_interface": "lo",
    "arm": "auto",  # auto (the arm on the object's side) | left | right
    "base_frame": "pelvis",
    "connect_timeout_s": 60.0,  # wall seconds to wait for the first rt/lowstate
    "state_timeout_s": 2.0,  # wall seconds without rt/lowstate before the robot counts as lost
    "trajectory_preview_dt_s": 0.1,  # spacing of the points the plan service returns (with_trajectory)
    "reuse_plan_tolerance_rad": 0.02,  # execute reuses the checked plan if the arm is still this close to its start
    "feedback_progress_step": 0.02,  # feedback on a new phase or after this much progress
}


def plan_preview(plan, dt: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """A plan's arm path as one trajectory: joint names, times ``(K,)`` s and positions ``(K, 7)`` rad, about ``dt`` apart."""
    from robotracer.robots.g1 import joints as J

    times, qs, t0 = [], [], 0.0
    for seg in plan.segments:
        times.append(seg.times + t0)
        qs.append(seg.q)
        t0 += float(seg.times[-1])
    times, qs = np.concatenate(times), np.vstack(qs)
    grid = np.arange(0.0, t0, dt) if dt > 0 else times
    grid = np.r_[grid, t0] if grid.size == 0 or grid[-1] < t0 else grid
    # segment boundaries repeat a time stamp: interpolate on the strictly increasing part
    keep = np.r_[True, np.diff(times) > 0]
    out = np.column_stack([np.interp(grid, times[keep], qs[keep, j]) for j in range(qs.shape[1])])
    return [J.BODY_JOINTS[m] for m in plan.motors], grid, out


def _build():
    from rclpy.action import ActionServer, CancelResponse, GoalResponse
    from rclpy.callback_groups import ReentrantCallbackGroup
    from rclpy.node import Node
    from std_srvs.srv import Trigger

    from robotracer.action import ExecuteTrace
    from robotracer.planning.plan_reuse import PlanReuse
    from robotracer.robots.g1.driver import G1Driver, G1DriverConfig, G1DriverError
    from robotracer.robots.g1.follower import (
        ExecutionCancelled,
        FollowerConfig,
        G1TraceFollower,
        UnreachableTraceError,
    )
    from robotracer.ros import conversions as conv
    from robotracer.ros import topics
    from robotracer.ros.estop import ENGAGED_REASON, EStopListener
    from robotracer.ros.subscription_thread import SubscriptionThread, serve_clock_from
    from robotracer.srv import PlanTrace

    class G1ControllerNode(Node):
        def __init__(self) -> None:
            super().__init__("g1_controller")
            self.p = declare_parameters(self, DEFAULTS)
            try:
                follower_config = FollowerConfig(arm=str(self.p["arm"]))
            except ValueError as exc:
                raise NodeStartupError(str(exc)) from exc
            self.driver = G1Driver(
                G1DriverConfig(
                    domain_id=int(self.p["sdk_domain_id"]), interface=str(self.p["sdk_interface"]),
                    state_timeout=float(self.p["state_timeout_s"]),
                )
            )  # fmt: skip
            self.follower = G1TraceFollower(self.driver, follower_config)
            self._connect_lock = threading.Lock()
            self._connected = False
            self.busy = False
            self._cancel = threading.Event()
            # the plan service's result, reused by execute while the arm is still at its start
            self.last_plan = PlanReuse(
                float(self.p["reuse_plan_tolerance_rad"]),
                lambda plan, q: float(np.max(np.abs(q[list(plan.motors)] - plan.segments[0].q[0]))),
            )
            self.estop = EStopListener(self, on_engage=self._cancel.set)  # the follower holds the arm on it
            self.clock_thread = SubscriptionThread(self, "clock")
            serve_clock_from(self.clock_thread, self)  # /clock at 100 Hz: off the multi-threaded executor
            group = ReentrantCallbackGroup()
            self.create_service(PlanTrace, topics.PLAN_TRACE, self.on_plan, callback_group=group)
            self.create_service(Trigger, topics.RELEASE_ARM, self.on_release_arm, callback_group=group)
            self.server = ActionServer(
                self, ExecuteTrace, topics.EXECUTE_TRACE,
                execute_callback=self.on_execute, goal_callback=self.on_goal,
                cancel_callback=self.on_cancel, callback_group=group,
            )  # fmt: skip
            threading.Thread(target=self._connect_quietly, name="g1-connect", daemon=True).start()
            self.get_logger().info(
                f"G1 controller ready (arm: {self.p['arm']}; unitree_sdk2py domain {self.p['sdk_domain_id']} "
                f"on {self.p['sdk_interface']!r})"
            )

        # ------------------------------------------------------------ robot connection
        def connect(self) -> None:
            with self._connect_lock:
                if not self._connected:
                    self.driver.connect(timeout=float(self.p["connect_timeout_s"]))
                    self._connected = True
                    self.get_logger().info("receiving rt/lowstate from the G1")

        def _connect_quietly(self) -> None:
            try:
                self.connect()
            except Exception as exc:  # reported again by the first plan / execute request
                self.get_logger().warning(f"G1 not reachable yet: {exc}")

        def arm_q(self) -> np.ndarray:
            self.connect()
            return self.driver.state().q

        # ------------------------------------------------------------ planning
        def plan(self, trace_msg):
            if self.estop.engaged:
                raise UnreachableTraceError(ENGAGED_REASON)
            trace = conv.msg_to_trace3d(trace_msg)
            if trace.frame_id != self.p["base_frame"]:
                raise UnreachableTraceError(
                    f"trace is in frame {trace.frame_id!r}; the G1 controller needs the base frame {self.p['base_frame']!r}"
                )
            q_now = self.arm_q()
            return self.last_plan.plan(trace, q_now, lambda: self.follower.plan(trace, q_now))

        def on_plan(self, request, response):
            try:
                plan = self.plan(request.trace)
            except (UnreachableTraceError, ValueError, G1DriverError) as exc:
                response.success, response.reason = False, str(getattr(exc, "reason", exc))
                return response
            response.success = True
            if request.with_trajectory:
                response.trajectory = conv.joint_trajectory(*plan_preview(plan, float(self.p["trajectory_preview_dt_s"])))
            self.get_logger().info(
                f"planned with the {plan.side} arm: {len(plan.ik_seconds)} IK waypoints "
                f"({1e3 * float(np.mean(plan.ik_seconds)):.2f} ms each), {plan.duration:.1f} s of motion"
            )
            return response

        def on_release_arm(self, _request, response):
            if self.busy:
                response.success, response.message = False, "executing a trace: cancel it first"
            elif self.estop.engaged:
                response.success, response.message = False, ENGAGED_REASON
            else:
                try:
                    self.connect()
                    self.driver.fade_out(wait=True)
                    response.success, response.message = True, "arm handed back to the standing controller"
                except G1DriverError as exc:
                    response.success, response.message = False, f"G1 not reachable: {exc}"
            return response

        # ------------------------------------------------------------ execute action
        def on_goal(self, _goal):
            if self.busy:
                self.get_logger().warning("rejecting execute goal: already executing a trace")
                return GoalResponse.REJECT
            self.busy = True
            self._cancel.clear()
            return GoalResponse.ACCEPT

        def on_cancel(self, _goal_handle):
            self._cancel.set()
            return CancelResponse.ACCEPT

        def on_execute(self, goal_handle):
            try:
                return self._execute(goal_handle)
            finally:
                self.busy = False

        def _execute(self, goal_handle):
            result = ExecuteTrace.Result()
            try:
                plan = self.plan(goal_handle.request.trace)
            except (UnreachableTraceError, ValueError, G1DriverError) as exc:
                result.success, result.reason = False, str(getattr(exc, "reason", exc))
                goal_handle.abort()
                return result
            index = {seg.name: i for i, seg in enumerate(plan.segments)}
            last = {"phase": None, "progress": -1.0}
            step = float(self.p["feedback_progress_step"])

            def on_progress(phase: str, progress: float) -> None:
                if phase != last["phase"] or progress - last["progress"] >= step:
                    fb = ExecuteTrace.Feedback(phase=phase, current_waypoint=index.get(phase, -1))
                    fb.progress = float(progress)
                    goal_handle.publish_feedback(fb)
                    last.update(phase=phase, progress=progress)

            try:
                report = self.follower.execute(plan, cancel=self._cancel, on_progress=on_progress)
            except ExecutionCancelled as exc:
                if self.estop.engaged:
                    goal_handle.abort()
                    result.success, result.reason = False, f"{ENGAGED_REASON}; the robot keeps standing"
                    return result
                goal_handle.canceled()
                result.success, result.reason = False, f"canceled: {exc}; the robot keeps standing"
                return result
            except G1DriverError as exc:
                goal_handle.abort()
                result.success, result.reason = False, f"lost the G1 during execution: {exc}"
                return result
            self.get_logger().info(
                f"trace executed with the {report.side} arm in {report.seconds:.1f} s robot time; settle errors (rad) "
                + ", ".join(f"{k} {v:.3f}" for k, v in report.settle_errors.items())
            )
            result.success = True
            goal_handle.succeed()
            return result

        def close(self) -> None:
            self._cancel.set()
            if self._connected:
                try:
                    self.driver.disconnect()  # fades arm control out: the standing controller keeps the arms
                except Exception:
                    pass

    return G1ControllerNode()


def main() -> int:
    return run_node(_build)


if __name__ == "__main__":
    raise SystemExit(main())
