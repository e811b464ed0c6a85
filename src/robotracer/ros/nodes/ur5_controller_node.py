"""UR5e controller node: plans and executes lifted traces (grasp at the start, carry, place, home).

Serves ``/controller/plan_trace`` (reachability check, no motion) and the
``/controller/execute_trace`` action. ``driver`` selects the robot behind the one arm
contract: ``topics`` (the simulator, or any node speaking ``/arm/joint_command`` +
``/joint_states``) or ``rtde`` (a real UR5e through ur_rtde at ``robot_ip``).
Cancel holds the arm where it is; so does the e-stop (``/estop``, std_msgs/Bool, latched), which
also aborts the running trace and refuses plans and executions until it is released.
"""

from __future__ import annotations

import time

import numpy as np

from robotracer.ros.node_runtime import NodeStartupError, declare_parameters, parameters_with_prefix, run_node

DEFAULTS = {
    "driver": "topics",  # topics | rtde
    "robot_ip": "127.0.0.1",
    "base_frame": "base_link",
    "control_rate_hz": 100.0,
    "connect_timeout_s": 10.0,
    "settle_tolerance_rad": 0.02,
    "settle_timeout_s": 2.0,
    "trajectory_preview_dt_s": 0.1,  # spacing of the points the plan service returns (with_trajectory)
    "reuse_plan_tolerance_rad": 0.01,  # execute reuses the last checked plan if the arm is still this close to its start
}


def _make_driver(node, p: dict, thread):
    from robotracer.robots.ur5e.kinematics import UR5eKinematics

    if p["driver"] == "topics":
        from robotracer.ros.topic_arm import TopicArm

        return TopicArm(node, list(UR5eKinematics.joint_names), thread=thread)
    if p["driver"] == "rtde":
        from robotracer.robots import make_robot

        return make_robot("ur5e_rtde", robot_ip=p["robot_ip"])
    raise NodeStartupError(f"unknown driver {p['driver']!r}; choose one of: topics, rtde")


def _build():
    from rclpy.action import ActionServer, CancelResponse, GoalResponse
    from rclpy.callback_groups import ReentrantCallbackGroup
    from rclpy.node import Node

    from robotracer.action import ExecuteTrace
    from robotracer.planning.pick_place import PickPlaceParams, PlanningError, plan_pick_and_place
    from robotracer.planning.plan_reuse import PlanReuse
    from robotracer.robots.ur5e.kinematics import UR5eKinematics
    from robotracer.ros import conversions as conv
    from robotracer.ros import topics
    from robotracer.ros.estop import ENGAGED_REASON, EStopListener
    from robotracer.ros.subscription_thread import SubscriptionThread, serve_clock_from
    from robotracer.srv import PlanTrace

    class UR5ControllerNode(Node):
        def __init__(self) -> None:
            super().__init__("ur5_controller", automatically_declare_parameters_from_overrides=True)
            self.p = declare_parameters(self, DEFAULTS)
            self.planning_params = PickPlaceParams(**parameters_with_prefix(self, "planning"))
            self.kin = UR5eKinematics()
            # /clock and /joint_states (100 Hz each) on a single-threaded companion, off this node's executor
            self.fast_subscriptions = SubscriptionThread(self, "subscriptions")
            serve_clock_from(self.fast_subscriptions, self)
            self.arm = _make_driver(self, self.p, self.fast_subscriptions)
            self.busy = False
            # the plan service's result, reused by execute while the arm is still at its start
            self.last_plan = PlanReuse(
                float(self.p["reuse_plan_tolerance_rad"]), lambda plan, q: float(np.max(np.abs(plan.positions[0] - q)))
            )
            self.estop = EStopListener(self, on_engage=self._on_estop)
            group = ReentrantCallbackGroup()
            # plan requests are on the goal's critical path: served straight by a thread of their own
            self.planner = SubscriptionThread(self, "planner")
            self.planner.create_service(PlanTrace, topics.PLAN_TRACE, self.on_plan)
            self.server = ActionServer(
                self,
                ExecuteTrace,
                topics.EXECUTE_TRACE,
                execute_callback=self.on_execute,
                goal_callback=self.on_goal,
                cancel_callback=lambda _g: CancelResponse.ACCEPT,
                callback_group=group,
            )
            self.get_logger().info(f"UR5e controller ready (driver: {self.p['driver']})")

        # ------------------------------------------------------------ helpers
        def now(self) -> float:
            return self.get_clock().now().nanoseconds * 1e-9

        def current_q(self) -> np.ndarray:
            if not self.arm.is_connected:
                self.arm.connect(self.p["connect_timeout_s"])
            return self.arm.get_observation()["positions"]

        def _on_estop(self) -> None:
            if self.busy:  # the execution loop aborts on its next tick; stop now
                self.arm.stop()

        def plan(self, trace_msg):
            if self.estop.engaged:
                raise PlanningError(ENGAGED_REASON)
            trace = conv.msg_to_trace3d(trace_msg)
            if trace.frame_id != self.p["base_frame"]:
                raise PlanningError(
                    f"trace is in frame {trace.frame_id!r}; the controller needs the base frame {self.p['base_frame']!r}"
                )
            q_now = self.current_q()
            return self.last_plan.plan(trace, q_now, lambda: plan_pick_and_place(trace, q_now, self.kin, self.planning_params))

        # ------------------------------------------------------------ plan service
        def on_plan(self, request, response):
            try:
                plan = self.plan(request.trace)
            except (PlanningError, ValueError, ConnectionError) as exc:
                response.success, response.reason = False, str(getattr(exc, "reason", exc))
                return response
            response.success = True
            if request.with_trajectory:
                step = max(int(round(float(self.p["trajectory_preview_dt_s"]) / self.planning_params.sample_dt)), 1)
                keep = np.unique(np.r_[np.arange(0, len(plan.times), step), len(plan.times) - 1])
                response.trajectory = conv.joint_trajectory(self.kin.joint_names, plan.times[keep], plan.positions[keep])
            return response

        # ------------------------------------------------------------ execute action
        def on_goal(self, _goal):
            if self.busy:
                self.get_logger().warning("rejecting execute goal: already executing a trace")
                return GoalResponse.REJECT
            return GoalResponse.ACCEPT

        def on_execute(self, goal_handle):
            self.busy = True
            try:
                return self._execute(goal_handle)
            finally:
                self.busy = False

        def _execute(self, goal_handle):
            result = ExecuteTrace.Result()
            try:
                plan = self.plan(goal_handle.request.trace)
            except (PlanningError, ValueError, ConnectionError) as exc:
                result.success, result.reason = False, str(getattr(exc, "reason", exc))
                goal_handle.abort()
                return result
            feedback = ExecuteTrace.Feedback()
            period = 1.0 / float(self.p["control_rate_hz"])
            t0 = self.now()
            last = None
            while True:
                if goal_handle.is_cancel_requested:
                    self.arm.stop()
                    goal_handle.canceled()
                    result.success, result.reason = False, "canceled: arm stopped and holding"
                    return result
                if self.estop.engaged:
                    self.arm.stop()
                    goal_handle.abort()
                    result.success, result.reason = False, ENGAGED_REASON
                    return result
                t = self.now() - t0
                q, grip, phase, waypoint = plan.sample(min(t, plan.duration))
                self.arm.send_action(q, grip)
                if (phase, waypoint) != last:
                    feedback.phase, feedback.current_waypoint = phase, int(waypoint)
                    feedback.progress = float(min(t / plan.duration, 1.0))
                    goal_handle.publish_feedback(feedback)
                    last = (phase, waypoint)
                if t >= plan.duration:
                    break
                time.sleep(period)
            # let the arm settle on the final target
            deadline = self.now() + float(self.p["settle_timeout_s"])
            final = plan.positions[-1]
            while self.now() < deadline:
                if np.max(np.abs(self.current_q() - final)) < self.p["settle_tolerance_rad"]:
                    break
                time.sleep(period)
            result.success = True
            goal_handle.succeed()
            return result

        def close(self) -> None:
            try:
                if self.arm.is_connected:
                    self.arm.stop()
            except Exception:
                pass

    return UR5ControllerNode()


def main() -> int:
    return run_node(_build)


if __name__ == "__main__":
    raise SystemExit(main())
