"""tracer node: serves ``/tracer/infer`` with the configured tracer backend.

Parameters: ``backend`` (geometric | robotracer | hf-vlm | http | openai), ``backend.<option>``
(passed to the backend's constructor, e.g. ``backend.checkpoint``, ``backend.url``),
``publish_overlay`` (draw each trace on its frame and publish it on ``/tracer/trace_image`` while the
topic has subscribers),
``frame_wait_s`` (how long a request naming a camera frame by stamp waits for it to arrive),
``prepare_frames`` (a backend with per-frame work that does not depend on the instruction —
the geometric one's object and table perception — does it as each frame arrives, on a thread of
its own, so a goal pays only for the rest).
The node follows the camera topics itself, so a request may name a frame by its stamp instead
of carrying the images. The backend is loaded once at start; a node whose backend cannot load
exits with the reason.
"""

from __future__ import annotations

import time

from robotracer.ros.node_runtime import LowPriorityWorker, NodeStartupError, parameters_with_prefix, run_node


def _build():
    from rclpy.node import Node

    from robotracer.msg import LabelMap
    from robotracer.ros import conversions as conv
    from robotracer.ros import topics
    from robotracer.pipeline.frame_preparer import FramePreparer
    from robotracer.ros.camera_frames import CameraSubscriptions, stamp_ns
    from robotracer.srv import InferTrace
    from robotracer.tracers import Observation, TracerError, make_tracer
    from robotracer.tracers.base import timed_infer
    from robotracer.visualization.overlay import draw_trace
    from sensor_msgs.msg import Image

    class TracerNode(Node):
        def __init__(self) -> None:
            super().__init__("tracer", automatically_declare_parameters_from_overrides=True)
            if not self.has_parameter("backend"):
                self.declare_parameter("backend", "geometric")
            for param, default in (("publish_overlay", True), ("frame_wait_s", 0.5), ("prepare_frames", True)):
                if not self.has_parameter(param):
                    self.declare_parameter(param, default)
            name = self.get_parameter("backend").value
            options = parameters_with_prefix(self, "backend")
            t0 = time.perf_counter()
            try:
                self.backend = make_tracer(name, **options)
            except (TracerError, OSError, ValueError, RuntimeError, ImportError) as exc:
                raise NodeStartupError(f"tracer backend {name!r} failed to load: {exc}") from exc
            load_s = time.perf_counter() - t0
            device = getattr(self.backend, "device", "cpu")
            self.get_logger().info(f"tracer backend '{name}' loaded in {load_s:.2f} s on {device}")
            self.overlay_pub = self.create_publisher(Image, topics.TRACE_IMAGE, 1)
            self.publish_overlay = bool(self.get_parameter("publish_overlay").value)
            self.frame_wait_s = float(self.get_parameter("frame_wait_s").value)
            # per-frame work of the backend (``perceive``), done as frames arrive: (labels, result) by stamp
            self.preparer = None
            if bool(self.get_parameter("prepare_frames").value) and hasattr(self.backend, "perceive"):
                self.preparer = FramePreparer(self._prepare, name="tracer_prepare")
            self.camera = CameraSubscriptions(self, labels=True, on_message=self._on_camera_message if self.preparer else None)
            self.visuals = LowPriorityWorker(f"{self.get_name()}_visuals")  # drawn after the answer went out
            self.create_service(InferTrace, topics.TRACER_INFER, self.on_infer)

        def _observation(self, request):
            """(Observation, header of the colour image) of the request, or None when it names a
            camera frame this node has not received."""
            if request.rgb.data:
                labels, seg = request.labels, request.segmentation
                obs = Observation(
                    rgb=conv.image_to_numpy(request.rgb),
                    depth=conv.image_to_numpy(request.depth),
                    intrinsics=conv.camera_info_to_intrinsics(request.camera_info),
                    segmentation=conv.image_to_numpy(seg) if seg.data else None,
                    labels=conv.label_map_to_dict(labels),
                    label_source=labels.source,
                    stamp=conv.time_to_seconds(request.rgb.header.stamp),
                )
                return obs, request.rgb.header
            frame = self.camera.wait_for(request.frame_stamp, self.frame_wait_s, ("segmentation",))
            if frame is None:
                return None
            return self._frame_observation(frame, self.camera.labels or LabelMap()), frame.header("rgb")

        @staticmethod
        def _frame_observation(frame, labels) -> Observation:
            return Observation(
                rgb=frame.array("rgb"),
                depth=frame.array("depth"),
                intrinsics=conv.camera_info_to_intrinsics(frame["info"]),
                segmentation=frame.array("segmentation"),
                labels=conv.label_map_to_dict(labels),
                label_source=labels.source,
                stamp=frame.stamp,
            )

        # ---- per-frame work ahead of goals (camera thread -> preparer thread)
        def _on_camera_message(self, _stream: str, _stamp_ns: int) -> None:
            camera = getattr(self, "camera", None)  # None while the subscriptions are still being made
            if camera is None:
                return
            frame = camera.latest(prefer=("segmentation",))
            if frame is not None and frame.has("segmentation") and camera.labels is not None:
                self.preparer.offer(frame.stamp_ns, (frame, camera.labels))

        def _prepare(self, frame_and_labels):
            frame, labels = frame_and_labels
            return labels, self.backend.perceive(self._frame_observation(frame, labels))

        def _prepared(self, request) -> dict:
            """The backend's options for a request naming a frame whose per-frame work is done."""
            if self.preparer is None or request.rgb.data:
                return {}
            found = self.preparer.result(stamp_ns(request.frame_stamp.sec, request.frame_stamp.nanosec), self.frame_wait_s)
            if found is None or found[0] is not self.camera.labels:  # not prepared, or the labels changed since
                return {}
            return {"scene": found[1]}

        def on_infer(self, request, response):
            try:
                found = self._observation(request)
                if found is None:
                    stamp = conv.time_to_seconds(request.frame_stamp)
                    response.success, response.frame_missing = False, True
                    response.reason = f"camera frame {stamp:.3f} s never reached the tracer (dropped or too old)"
                    return response
                obs, header = found
                answer = timed_infer(self.backend, obs, request.instruction, **self._prepared(request))
            except (TracerError, ValueError) as exc:
                response.success, response.reason = False, str(exc)
                return response
            except Exception as exc:  # a backend bug must not take the node down
                self.get_logger().error(f"tracer backend crashed: {exc!r}")
                response.success, response.reason = False, f"tracer backend error: {exc}"
                return response
            response.success = True
            response.raw_answer = answer.text
            response.seconds = answer.seconds
            response.trace = conv.trace_to_msg(
                answer.trace.to_normalized(obs.intrinsics.width, obs.intrinsics.height),
                header,
                instruction=request.instruction,
                source=answer.backend,
                moved_object=answer.moved_object,
            )
            response.trace.image_width, response.trace.image_height = obs.intrinsics.width, obs.intrinsics.height
            # drawn after the answer has gone out, and only when someone watches the topic
            if self.publish_overlay and self.overlay_pub.get_subscription_count() > 0:
                self.visuals.submit(self._publish_overlay, obs.rgb, answer, request.instruction, header)
            return response

        def _publish_overlay(self, rgb, answer, instruction: str, header) -> None:
            img = draw_trace(rgb, answer.trace, label=f"{answer.backend}: {instruction}")
            self.overlay_pub.publish(conv.numpy_to_image(img, "rgb8", header))

    return TracerNode()


def main() -> int:
    # one request at a time; camera frames arrive on their own thread (CameraSubscriptions)
    return run_node(_build, threads=1)


if __name__ == "__main__":
    raise SystemExit(main())
