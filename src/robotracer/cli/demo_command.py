"""``robotracer demo``: launch the simulated graph headless, send one instruction, judge the outcome.

Prints a JSON result (goal result, 3D trace in the base frame, final object positions,
per-stage timings, the placement verdict) and writes ``demo.mp4`` (the camera view with
the trace and the current stage drawn) and ``sheet.png`` (before / trace / execution /
after) into ``--out``.
"""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from pathlib import Path

import numpy as np

DEFAULT_INSTRUCTION = "put the cup left of the plate"


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", help="run the UR5e simulation demo end to end (headless)")
    p.add_argument("--instruction", default=DEFAULT_INSTRUCTION, help=f'default: "{DEFAULT_INSTRUCTION}"')
    p.add_argument("--seed", type=int, default=-1, help="object layout: -1 = default, N = random layout N")
    p.add_argument("--robot", default="ur5", help="graph to launch (config/<robot>.yaml); default ur5")
    p.add_argument("--backend", default=None, help="tracer backend (default: the graph config's)")
    p.add_argument("--out", default="robotracer_demo", help="output folder (default ./robotracer_demo)")
    p.add_argument("--json", action="store_true", help="print only the JSON result")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds for the whole goal (default 300)")
    p.add_argument("--no-video", action="store_true", help="skip the MP4 (the image sheet is still written)")
    p.set_defaults(func=run)


class Recorder:
    """Collects camera frames, draws the current trace/stage on them, streams an MP4, keeps sheet tiles."""

    def __init__(self, video_path: Path | None, fps: float) -> None:
        self.video_path = video_path
        self.fps = fps
        self.stage = "waiting"
        self.trace = None  # robotracer.trace.Trace
        self.instruction = ""
        self.latest: np.ndarray | None = None
        self.tiles: dict[str, np.ndarray] = {}
        self._queue: queue.Queue = queue.Queue(maxsize=64)
        self._writer_thread = threading.Thread(target=self._write, daemon=True)
        self._writer_thread.start()
        self.frames_written = 0

    def annotate(self, rgb: np.ndarray) -> np.ndarray:
        from robotracer.visualization.overlay import draw_trace, put_banner

        img = draw_trace(rgb, self.trace) if self.trace is not None else rgb.copy()
        put_banner(img, f"{self.instruction} | {self.stage}")
        return img

    def on_frame(self, rgb: np.ndarray) -> None:
        self.latest = rgb
        if self.video_path is not None:
            try:
                self._queue.put_nowait(self.annotate(rgb))
            except queue.Full:
                pass

    def snapshot(self, key: str) -> None:
        if self.latest is not None and key not in self.tiles:
            self.tiles[key] = self.annotate(self.latest)

    def _write(self) -> None:
        writer = None
        while True:
            img = self._queue.get()
            if img is None:
                break
            if writer is None:
                import imageio.v2 as imageio

                writer = imageio.get_writer(str(self.video_path), fps=self.fps, codec="libx264", quality=7, macro_block_size=8)
            writer.append_data(img)
            self.frames_written += 1
        if writer is not None:
            writer.close()

    def close(self) -> None:
        self._queue.put(None)
        self._writer_thread.join(timeout=30.0)


def run(args) -> int:
    try:
        return _run(args)
    except RuntimeError as exc:
        print(f"[demo] {exc}", file=sys.stderr)
        return 1


def _run(args) -> int:
    from robotracer.ros.node_runtime import configure_environment

    configure_environment()
    import rclpy
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from sensor_msgs.msg import Image
    from visualization_msgs.msg import MarkerArray

    from robotracer.cli.process_graph import ProcessGraph
    from robotracer.evaluation.placement import check_placement
    from robotracer.graph import load_graph
    from robotracer.language.instruction import InstructionError, parse_instruction
    from robotracer.ros import conversions as conv
    from robotracer.ros import topics
    from robotracer.ros.trace_client import TraceClient, spin_in_background
    from robotracer.trace.types import Trace
    from robotracer.visualization.overlay import image_sheet

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = (lambda *a: None) if args.json else (lambda *a: print("[demo]", *a, flush=True))
    overrides = {"sim": {"seed": args.seed}}
    if args.backend:
        overrides["tracer"] = {"backend": args.backend}
    graph = load_graph(args.robot, overrides)
    shared = graph.node("task_server").parameters
    T_base_camera = conv.transform_from_params(shared["camera_xyz"], shared["camera_rpy"])
    camera_rate = float(graph.node("sim").parameters.get("camera_rate_hz", 15.0))

    log(f"launching {graph.robot} graph ({', '.join(n.name for n in graph.nodes)}); node logs in {out / 'logs'}")
    recorder = Recorder(None if args.no_video else out / "demo.mp4", camera_rate)
    recorder.instruction = args.instruction
    poses: dict = {}
    started = time.monotonic()
    with ProcessGraph(graph, output=None, log_dir=out / "logs") as running:
        rclpy.init()
        node = rclpy.create_node("robotracer_demo")
        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        node.create_subscription(Image, topics.COLOR_IMAGE, lambda m: recorder.on_frame(conv.image_to_numpy(m)), qos_profile_sensor_data)
        node.create_subscription(MarkerArray, topics.SIM_OBJECT_POSES, lambda m: poses.update(conv.markers_to_poses(m)), latched)
        executor = spin_in_background(node)
        try:
            client = TraceClient(node)
            deadline = time.monotonic() + 180.0
            while not (client.wait_for_server(1.0) and recorder.latest is not None and poses):
                if running.dead():
                    raise RuntimeError(f"a node died during start-up: {running.dead()}; see {out / 'logs'}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the graph did not come up within 180 s; see {out / 'logs'}")
            log(f"graph up in {time.monotonic() - started:.1f} s; sending: {args.instruction!r}")
            before = {k: (v[0].copy(), v[1].copy()) for k, v in poses.items()}
            recorder.stage = "capture"
            recorder.snapshot("before")

            def on_feedback(fb) -> None:
                if fb.stage != recorder.stage:
                    log(f"stage: {fb.stage}")
                if fb.trace.points and recorder.trace is None:
                    recorder.trace = Trace(np.array([[p.u, p.v, p.d] for p in fb.trace.points]), image_size=(fb.trace.image_width or 640, fb.trace.image_height or 480))
                    recorder.snapshot("trace")
                recorder.stage = fb.stage + (f" (waypoint {fb.current_waypoint})" if fb.current_waypoint >= 0 else "")
                if fb.stage == "execute" and fb.progress > 0.9:  # mid-carry (execute spans 0.8..1.0)
                    recorder.snapshot("carry")

            outcome = client.send(args.instruction, feedback=on_feedback, timeout_s=args.timeout)
            recorder.stage = "done: " + ("success" if outcome.success else f"failed ({outcome.reason[:60]})")
            time.sleep(1.0)  # let objects settle and a last frame arrive
            recorder.snapshot("after")
            after = {k: (v[0].copy(), v[1].copy()) for k, v in poses.items()}
        finally:
            executor.shutdown(timeout_sec=1.0)
            node.destroy_node()
            rclpy.try_shutdown()
    recorder.close()

    placement = None
    try:
        spatial = parse_instruction(args.instruction)
        placement = check_placement(
            spatial, before, after, T_base_camera, table_z=float(shared.get("workspace", {}).get("table_height", 0.0))
        )
    except (InstructionError, KeyError) as exc:
        placement_error = str(exc)
    else:
        placement_error = ""
    tiles = [recorder.tiles[k] for k in ("before", "trace", "carry", "after") if k in recorder.tiles]
    sheet_path = out / "sheet.png"
    if tiles:
        import imageio.v2 as imageio

        captions = [k for k in ("before", "trace", "carry", "after") if k in recorder.tiles]
        imageio.imwrite(sheet_path, image_sheet(tiles, columns=2, captions=captions))
    success = bool(outcome.success and placement is not None and placement.success)
    result = {
        "success": success,
        "instruction": args.instruction,
        "seed": args.seed,
        "goal": outcome.to_dict(),
        "placement": placement.to_dict() if placement else {"success": False, "reason": placement_error},
        "final_object_positions": {k: np.round(v[0], 4).tolist() for k, v in after.items()},
        "initial_object_positions": {k: np.round(v[0], 4).tolist() for k, v in before.items()},
        "timings_s": outcome.to_dict()["timings_s"],
        "outputs": {
            "video": str(out / "demo.mp4") if not args.no_video else None,
            "sheet": str(sheet_path) if tiles else None,
            "logs": str(out / "logs"),
        },
        "wall_time_s": round(time.monotonic() - started, 1),
    }
    (out / "result.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    if not args.json:
        print(f"[demo] {'SUCCESS' if success else 'FAILED'}: video {result['outputs']['video']}, sheet {result['outputs']['sheet']}",
              file=sys.stderr)
    return 0 if success else 1
