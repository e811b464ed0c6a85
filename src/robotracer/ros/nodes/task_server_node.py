"""task server node: the ``/trace`` action — capture -> infer -> lift -> validate -> execute.

Feedback at every stage; a failing stage ends the goal with ``failed_stage`` and a specific
``reason``, before the robot moves. Cancel stops the arm. One goal at a time: a goal that
arrives while another runs is rejected (and the reason is logged). While the e-stop
(``/estop``) is engaged, goals end at once with that reason; the controller stops the arm.

The goal runs as a coroutine on a single-threaded executor: it yields while the tracer, lifter
and controller work and resumes in the thread that took their answer (no thread pool, no
cross-thread hand-offs on the goal's critical path).
"""

from __future__ import annotations

import time

from robotracer.ros.node_runtime import Stopwatch, declare_parameters, run_node

DEFAULTS = {
    "robot": "ur5e",
    "base_frame": "base_link",
    "camera_frame": "camera_color_optical_frame",
    "camera_xyz": [0.0, 0.0, 0.0],
    "camera_rpy": [0.0, 0.0, 0.0],
    "max_frame_age_s": 1.0,  # by the camera's clock (sim time in simulation)
    "max_frame_wall_age_s": 5.0,  # by the wall clock: catches a camera/simulator that stopped
    "capture_wait_s": 5.0,  # wall seconds a goal waits for a first camera frame (DDS discovery just after start-up)
    "service_wait_s": 10.0,
    "infer_timeout_s": 60.0,
    "lift_timeout_s": 5.0,
    "plan_timeout_s": 10.0,
    "execute_timeout_s": 120.0,  # sim/robot clock: a trace's execution longer than this is stopped
    "execute_wall_timeout_s": 1800.0,  # wall clock backstop (a simulator far slower than real time)
    "validate": True,
    "workspace": {"lower": [-0.9, -0.9, -0.05], "upper": [0.9, 0.9, 0.8], "table_height": 0.0},
}

STAGES = ("capture", "infer", "lift", "validate", "execute")


class GoalFailed(Exception):
    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(reason)
        self.stage, self.reason = stage, reason


def _build():
    from rclpy.action import ActionClient, ActionServer, CancelResponse, GoalResponse
    from rclpy.callback_groups import ReentrantCallbackGroup
    from rclpy.node import Node

    from robotracer.action import ExecuteTrace, Trace
    from robotracer.msg import SpatialTrace
    from robotracer.perception import label_mask
    from robotracer.pipeline.frame_sync import frame_age
    from robotracer.ros import conversions as conv
    from robotracer.ros import topics
    from robotracer.ros.camera_frames import CameraSubscriptions
    from robotracer.ros.coroutines import ready_within, result_within, sleep
    from robotracer.ros.estop import ENGAGED_REASON, EStopListener
    from robotracer.ros.subscription_thread import serve_clock_from
    from robotracer.srv import InferTrace, LiftTrace, PlanTrace
    from robotracer.validation import WorkspaceBounds, validate_trace  # imported at start: not in the first goal's time

    class TaskServerNode(Node):
        def __init__(self) -> None:
            super().__init__("task_server")
            self.p = declare_parameters(self, DEFAULTS)
            self.T_base_camera = conv.transform_from_params(self.p["camera_xyz"], self.p["camera_rpy"])
            group = ReentrantCallbackGroup()
            # the camera as this node sees it; the tracer and lifter follow the same topics and get frames by stamp
            self.camera = CameraSubscriptions(self, labels=True)
            serve_clock_from(self.camera.thread, self)  # /clock at 100 Hz: off the goal's executor
            self.estop = EStopListener(self)  # the controller stops the arm; goals are refused while engaged
            self.infer_client = self.create_client(InferTrace, topics.TRACER_INFER, callback_group=group)
            self.lift_client = self.create_client(LiftTrace, topics.LIFTER_LIFT, callback_group=group)
            self.plan_client = self.create_client(PlanTrace, topics.PLAN_TRACE, callback_group=group)
            self.exec_client = ActionClient(self, ExecuteTrace, topics.EXECUTE_TRACE, callback_group=group)
            self._busy = False
            self._running_instruction = ""
            self.server = ActionServer(
                self, Trace, topics.TRACE_ACTION,
                execute_callback=self.on_execute, goal_callback=self.on_goal,
                cancel_callback=lambda _g: CancelResponse.ACCEPT, callback_group=group,
            )
            self.get_logger().info(f"/trace ready for robot '{self.p['robot']}'")

        def now(self) -> float:
            return self.get_clock().now().nanoseconds * 1e-9

        # -------------------------------------------------------------- goal handling
        def on_goal(self, goal) -> GoalResponse:
            if self._busy:  # goal and execute callbacks all run in the executor's one thread
                self.get_logger().warning(
                    f"rejected goal {goal.instruction!r}: goal {self._running_instruction!r} is still running "
                    "(one goal at a time; cancel it first)"
                )
                return GoalResponse.REJECT
            self._busy, self._running_instruction = True, goal.instruction
            return GoalResponse.ACCEPT

        async def on_execute(self, goal_handle):
            try:
                return await self._run(goal_handle)
            finally:
                self._busy, self._running_instruction = False, ""

        def _feedback(self, goal_handle, stage: str, trace: SpatialTrace | None = None, waypoint: int = -1, progress=None):
            fb = Trace.Feedback(stage=stage, current_waypoint=int(waypoint))
            fb.progress = float(progress if progress is not None else STAGES.index(stage) / len(STAGES))
            if trace is not None:
                fb.trace = trace
            goal_handle.publish_feedback(fb)

        async def _run(self, goal_handle):
            goal = goal_handle.request
            result = Trace.Result()
            watch = Stopwatch()
            try:
                await self._pipeline(goal_handle, goal, result, watch)
                watch.stop()
                result.success = True
                goal_handle.succeed()
            except GoalFailed as failure:
                watch.stop()
                result.success, result.failed_stage, result.reason = False, failure.stage, failure.reason
                self.get_logger().warning(f"goal {goal.instruction!r} failed at {failure.stage}: {failure.reason}")
                if goal_handle.is_cancel_requested:
                    goal_handle.canceled()
                else:
                    goal_handle.abort()
            except Exception as exc:  # never crash the node on a bad goal
                watch.stop()
                self.get_logger().error(f"goal {goal.instruction!r} crashed: {exc!r}")
                result.success, result.failed_stage, result.reason = False, "internal", f"internal error: {exc}"
                goal_handle.abort()
            result.timings = conv.timings_to_msgs(watch.timings)
            return result

        def _check_cancel(self, goal_handle, stage: str) -> None:
            if goal_handle.is_cancel_requested:
                raise GoalFailed(stage, "canceled before the robot moved")

        async def _service_ready(self, client, stage: str, what: str) -> None:
            if not await ready_within(self, client.service_is_ready, float(self.p["service_wait_s"])):
                raise GoalFailed(stage, f"{what} service {client.srv_name} is not available (is its node running?)")

        async def _call(self, client, request, timeout_s: float, stage: str, what: str):
            await self._service_ready(client, stage, what)
            response = await result_within(self, client.call_async(request), timeout_s)
            if response is None:
                raise GoalFailed(stage, f"{what} did not answer within {timeout_s:.1f} s")
            return response

        async def _pipeline(self, goal_handle, goal, result, watch: Stopwatch) -> None:
            instruction = goal.instruction.strip()
            if goal.robot and goal.robot != self.p["robot"]:
                raise GoalFailed("capture", f"this graph drives robot {self.p['robot']!r}, not {goal.robot!r}")
            if self.estop.engaged:
                raise GoalFailed("capture", ENGAGED_REASON)
            if not instruction:
                raise GoalFailed("infer", "empty instruction: say what to move where, e.g. 'put the cup left of the plate'")
            # 1 capture ---------------------------------------------------------------
            watch.start("capture")
            self._feedback(goal_handle, "capture")
            # just after start-up the first frame, and the latched label map of its segmentation, may be on their way
            deadline = time.monotonic() + float(self.p["capture_wait_s"])
            frame = self.camera.latest(prefer=("segmentation",))
            while (frame is None or (frame.has("segmentation") and self.camera.labels is None)) and time.monotonic() < deadline:
                await sleep(self, 0.02)
                frame = self.camera.latest(prefer=("segmentation",))
            if frame is None:
                raise GoalFailed(
                    "capture", f"no camera frame received on {topics.COLOR_IMAGE} + {topics.DEPTH_IMAGE} (is the camera running?)"
                )
            if frame.has("segmentation") and self.camera.labels is None:
                raise GoalFailed(
                    "capture", f"camera frames carry a segmentation but no label map arrived on {topics.SEGMENTATION_LABELS}"
                )
            stale = frame_age(frame, self.now()).stale_reason(
                float(self.p["max_frame_age_s"]), float(self.p["max_frame_wall_age_s"])
            )
            if stale:
                raise GoalFailed("capture", stale)
            # 2 infer -----------------------------------------------------------------
            self._check_cancel(goal_handle, "infer")
            watch.start("infer")
            self._feedback(goal_handle, "infer")
            inferred = await self._infer(instruction, frame)
            result.raw_answer = inferred.raw_answer
            if not inferred.success:
                raise GoalFailed("infer", inferred.reason)
            result.trace = inferred.trace
            # 3 lift ------------------------------------------------------------------
            self._check_cancel(goal_handle, "lift")
            watch.start("lift")
            self._feedback(goal_handle, "lift", inferred.trace)
            lifted = await self._lift(inferred.trace, frame, self.p["base_frame"])
            result.trace = lifted
            if goal.target_frame and goal.target_frame != self.p["base_frame"]:
                result.trace = await self._lift(inferred.trace, frame, goal.target_frame)
            # 4 validate --------------------------------------------------------------
            self._check_cancel(goal_handle, "validate")
            watch.start("validate")
            self._feedback(goal_handle, "validate", lifted)
            # the controller plans (IK along the trace) in its process while the scene checks run here
            await self._service_ready(self.plan_client, "validate", "planner (controller)")
            plan_future = self.plan_client.call_async(PlanTrace.Request(trace=lifted))
            if self.p["validate"]:
                self._validate(lifted, frame)
            plan = await result_within(self, plan_future, float(self.p["plan_timeout_s"]))
            if plan is None:
                raise GoalFailed("validate", f"planner did not answer within {self.p['plan_timeout_s']:.1f} s")
            if not plan.success:
                raise GoalFailed("validate", f"not executable: {plan.reason}")
            if goal.dry_run:
                return
            # 5 execute ---------------------------------------------------------------
            self._check_cancel(goal_handle, "execute")
            watch.start("execute")
            self._feedback(goal_handle, "execute", lifted, waypoint=0)
            await self._execute(goal_handle, lifted)

        async def _infer(self, instruction: str, frame):
            """The tracer's answer on ``frame``: named by its stamp; sent in full if the tracer lacks it."""
            timeout = float(self.p["infer_timeout_s"])
            req = InferTrace.Request(instruction=instruction, frame_stamp=frame.time)
            inferred = await self._call(self.infer_client, req, timeout, "infer", "tracer")
            if inferred.frame_missing:
                self.get_logger().info(f"{inferred.reason}: sending it with the request")
                req = InferTrace.Request(instruction=instruction, rgb=frame["rgb"], depth=frame["depth"], camera_info=frame["info"])
                if frame.has("segmentation") and self.camera.labels is not None:
                    req.segmentation, req.labels = frame["segmentation"], self.camera.labels
                inferred = await self._call(self.infer_client, req, timeout, "infer", "tracer")
            return inferred

        async def _lift(self, trace_msg, frame, target_frame: str):
            """The lifted SpatialTrace in ``target_frame``, or GoalFailed at the lift stage."""
            timeout = float(self.p["lift_timeout_s"])
            # empty depth/camera_info: the lifter takes the frame with the trace's stamp from its own subscriptions
            request = LiftTrace.Request(trace=trace_msg, target_frame=target_frame)
            lifted = await self._call(self.lift_client, request, timeout, "lift", "lifter")
            if lifted.frame_missing:
                self.get_logger().info(f"{lifted.reason}: sending it with the request")
                request = LiftTrace.Request(trace=trace_msg, depth=frame["depth"], camera_info=frame["info"], target_frame=target_frame)
                lifted = await self._call(self.lift_client, request, timeout, "lift", "lifter")
            if not lifted.success:
                raise GoalFailed("lift", lifted.reason)
            return lifted.trace

        def _validate(self, trace_msg, frame) -> None:
            trace3d = conv.msg_to_trace3d(trace_msg)
            depth = frame.array("depth")
            intr = conv.camera_info_to_intrinsics(frame["info"])
            mask = None
            seg, labels = frame.array("segmentation"), self.camera.labels
            if seg is not None and labels is not None and trace_msg.moved_object:
                ids = [i for i, n in conv.label_map_to_dict(labels).items() if n == trace_msg.moved_object]
                if ids:
                    mask = label_mask(seg, ids)
            workspace = WorkspaceBounds(
                lower=tuple(self.p["workspace.lower"]),
                upper=tuple(self.p["workspace.upper"]),
                table_height=float(self.p["workspace.table_height"]),
            )
            report = validate_trace(trace3d, depth, intr, self.T_base_camera, mask, workspace)
            if not report.ok:
                raise GoalFailed("validate", report.reason)

        async def _execute(self, goal_handle, trace_msg) -> None:
            if not await ready_within(self, self.exec_client.server_is_ready, float(self.p["service_wait_s"])):
                raise GoalFailed("execute", f"controller action {topics.EXECUTE_TRACE} is not available")

            def on_feedback(fb_msg):
                fb = fb_msg.feedback
                self._feedback(goal_handle, "execute", trace_msg, fb.current_waypoint, 0.8 + 0.2 * fb.progress)

            send = await result_within(
                self, self.exec_client.send_goal_async(ExecuteTrace.Goal(trace=trace_msg), feedback_callback=on_feedback), 10.0
            )
            if send is None or not send.accepted:
                raise GoalFailed("execute", "the controller rejected the trace (is it executing another one?)")
            result_future = send.get_result_async()
            deadline = self.now() + float(self.p["execute_timeout_s"])
            wall_deadline = time.monotonic() + float(self.p["execute_wall_timeout_s"])
            while not result_future.done():
                if goal_handle.is_cancel_requested:
                    await result_within(self, send.cancel_goal_async(), 5.0)
                    await result_within(self, result_future, 5.0)
                    raise GoalFailed("execute", "canceled: the arm was stopped")
                if self.now() > deadline or time.monotonic() > wall_deadline:
                    await result_within(self, send.cancel_goal_async(), 5.0)
                    raise GoalFailed("execute", f"execution took longer than {self.p['execute_timeout_s']:.0f} s; arm stopped")
                await sleep(self, 0.01)  # (a timed wait on result_future would leave one done-callback per check)
            res = result_future.result().result
            if not res.success:
                raise GoalFailed("execute", res.reason)

    return TaskServerNode()


def main() -> int:
    return run_node(_build, threads=1)  # goals are coroutines: see the module docstring


if __name__ == "__main__":
    raise SystemExit(main())
