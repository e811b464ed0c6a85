"""lifter node: serves ``/lifter/lift``: back-project a (u, v, d) trace and transform it to the base frame.

Uses the observed depth at the start and end points and the model's depth in between
(as the paper's robots do). The camera extrinsics come from the graph config
(``camera_xyz``, ``camera_rpy``: the optical frame in ``base_frame``); on a full ROS
install with ``tf2_ros``, TF is used instead when it knows the transform.
A request either carries the depth image and CameraInfo, or leaves them empty and the lifter
takes both from the camera-topic frame captured at the trace's stamp (it follows the camera
topics itself; ``frame_wait_s`` bounds the wait for that frame).
Publishes the lifted trace on ``/trace/path`` (nav_msgs/Path) and ``/trace/markers`` while they have
subscribers.
"""

from __future__ import annotations


from robotracer.ros.node_runtime import LowPriorityWorker, declare_parameters, run_node

DEFAULTS = {
    "base_frame": "base_link",
    "camera_frame": "camera_color_optical_frame",
    "camera_xyz": [0.0, 0.0, 0.0],
    "camera_rpy": [0.0, 0.0, 0.0],
    "endpoint_window": 5,
    "endpoint_tolerance_m": 0.02,  # observed depth replaces the trace's at start/end only within this; < 0 = always
    "use_tf": True,
    "frame_wait_s": 0.5,
}


def _build():
    from nav_msgs.msg import Path
    from rclpy.node import Node
    from visualization_msgs.msg import MarkerArray

    from robotracer.ros import conversions as conv
    from robotracer.ros import topics
    from robotracer.ros.camera_frames import CameraSubscriptions
    from robotracer.srv import LiftTrace
    from robotracer.trace.lifting import LiftError, lift_trace

    class LifterNode(Node):
        def __init__(self) -> None:
            super().__init__("lifter")
            self.p = declare_parameters(self, DEFAULTS)
            self.T_base_camera = conv.transform_from_params(self.p["camera_xyz"], self.p["camera_rpy"])
            self.tf_buffer = None
            if self.p["use_tf"]:
                try:
                    import tf2_ros  # present on full ROS installs only

                    self.tf_buffer = tf2_ros.Buffer()
                    self._tf_listener = tf2_ros.TransformListener(self.tf_buffer, self)
                    self.get_logger().info("using TF for the camera extrinsics when available")
                except ImportError:
                    self.get_logger().info("tf2_ros not installed: camera extrinsics from parameters")
            # 3 s of frames at 10 Hz: a slow tracer's trace still finds its frame here
            self.camera = CameraSubscriptions(self, required=("depth", "info"), optional=(), keep=30)
            self.path_pub = self.create_publisher(Path, topics.TRACE_PATH, 1)
            self.marker_pub = self.create_publisher(MarkerArray, topics.TRACE_MARKERS, 1)
            self.visuals = LowPriorityWorker(f"{self.get_name()}_visuals")  # drawn after the answer went out
            self.create_service(LiftTrace, topics.LIFTER_LIFT, self.on_lift)

        def transform(self, target: str, source: str):
            if self.tf_buffer is not None:
                try:
                    from rclpy.time import Time

                    t = self.tf_buffer.lookup_transform(target, source, Time())
                    q, tr = t.transform.rotation, t.transform.translation
                    from robotracer.geometry.transforms import RigidTransform

                    return RigidTransform.from_xyz_quat_xyzw([tr.x, tr.y, tr.z], [q.x, q.y, q.z, q.w])
                except Exception:  # TF does not know it yet: configured extrinsics
                    pass
            if target != self.p["base_frame"]:
                raise LiftError(
                    f"unknown target frame {target!r}: without TF only the base frame "
                    f"{self.p['base_frame']!r} is known"
                )
            return self.T_base_camera

        def on_lift(self, request, response):
            target = request.target_frame or self.p["base_frame"]
            info, depth = request.camera_info, None
            if info.width == 0:  # the frame the trace was made on, from this node's camera subscriptions
                frame = self.camera.wait_for(request.trace.header.stamp, float(self.p["frame_wait_s"]))
                if frame is None:
                    stamp = conv.time_to_seconds(request.trace.header.stamp)
                    response.success, response.frame_missing = False, True
                    response.reason = f"camera frame {stamp:.3f} s never reached the lifter (dropped or too old)"
                    return response
                info, depth = frame["info"], frame.array("depth")
            try:
                if request.camera_info.width and request.depth.data:
                    depth = conv.image_to_numpy(request.depth)
                trace = conv.msg_to_trace(request.trace)
                intr = conv.camera_info_to_intrinsics(info)
                source = info.header.frame_id or self.p["camera_frame"]
                tol = float(self.p["endpoint_tolerance_m"])
                lifted = lift_trace(
                    trace, intr, self.transform(target, source), target, depth,
                    int(self.p["endpoint_window"]), None if tol < 0 else tol,
                )
            except (LiftError, ValueError) as exc:
                response.success, response.reason = False, f"lift failed: {exc}"
                return response
            header = request.trace.header
            response.success = True
            response.trace = conv.trace_to_msg(
                trace,
                header,
                instruction=request.trace.instruction,
                source=request.trace.source,
                moved_object=request.trace.moved_object,
                lifted=lifted,
            )
            response.trace.image_width, response.trace.image_height = intr.width, intr.height
            # visualisation goes out after the answer, off the goal's critical path, when someone watches it
            if self.path_pub.get_subscription_count() or self.marker_pub.get_subscription_count():
                self.visuals.submit(self._publish_visuals, lifted, response.trace.header)
            return response

        def _publish_visuals(self, lifted, header) -> None:
            self.path_pub.publish(conv.trace3d_to_path(lifted, header))
            self.marker_pub.publish(conv.trace3d_to_markers(lifted, header))

    return LifterNode()


def main() -> int:
    # one request at a time; camera frames arrive on their own thread (CameraSubscriptions)
    return run_node(_build, threads=1)


if __name__ == "__main__":
    raise SystemExit(main())
