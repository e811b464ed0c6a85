"""``robotracer trace "<instruction>"``: send a goal to ``/trace`` and show its feedback and result.

The counterpart of ``ros2 action send_goal /trace robotracer/action/Trace "{instruction: '...'}" --feedback``.
"""

from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser("trace", help="send an instruction to a running graph's /trace action")
    p.add_argument("instruction", help='e.g. "put the cup left of the plate"')
    p.add_argument("--dry-run", action="store_true", help="stop after validation: do not move the robot")
    p.add_argument("--target-frame", default="", help="frame of the returned 3D trace (default: robot base)")
    p.add_argument("--json", action="store_true", help="print the result as JSON only")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the result (default 300)")
    p.add_argument("--server-timeout", type=float, default=15.0, help="seconds to wait for /trace to appear")
    p.set_defaults(func=run)


def run(args) -> int:
    from robotracer.ros.node_runtime import configure_environment

    configure_environment()
    import rclpy

    from robotracer.ros.trace_client import TraceClient, spin_in_background

    rclpy.init()
    node = rclpy.create_node("robotracer_trace_cli")
    executor = spin_in_background(node)
    try:
        client = TraceClient(node)
        if not client.wait_for_server(args.server_timeout):
            print(
                f"no /trace action server after {args.server_timeout:.0f} s: start the graph with "
                "`robotracer launch ur5` (or `ros2 launch robotracer ur5.launch.py`)",
                file=sys.stderr,
            )
            return 2
        last = [None]

        def show(fb) -> None:
            key = (fb.stage, fb.current_waypoint)
            if key != last[0] and not args.json:
                wp = f" waypoint {fb.current_waypoint}" if fb.current_waypoint >= 0 else ""
                print(f"  [{fb.progress * 100:5.1f}%] {fb.stage}{wp}", flush=True)
                last[0] = key

        outcome = client.send(
            args.instruction, dry_run=args.dry_run, target_frame=args.target_frame, feedback=show, timeout_s=args.timeout
        )
        if args.json:
            print(json.dumps(outcome.to_dict(), indent=2))
        else:
            verdict = "succeeded" if outcome.success else f"failed ({outcome.failed_stage or outcome.status})"
            print(f"goal {verdict}" + (f": {outcome.reason}" if outcome.reason else ""))
            if outcome.raw_answer:
                print(f"  tracer answer: {outcome.raw_answer}")
            if len(outcome.trace_xyz):
                print(f"  3D trace in {outcome.frame_id}:")
                for i, (x, y, z) in enumerate(outcome.trace_xyz):
                    print(f"    {i:2d}: ({x:+.3f}, {y:+.3f}, {z:+.3f}) m")
            if outcome.timings:
                print("  timings: " + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in outcome.timings.items()))
        return 0 if outcome.success else 1
    finally:
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
        rclpy.try_shutdown()
