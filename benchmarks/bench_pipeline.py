"""Pipeline and camera-transport figures for the UR5e graph (prints them; not a test).

1. Camera transport across processes: a publisher process sends 640x480 rgb8 + 32FC1 frames
   stamped with the wall clock at --rate Hz; this process subscribes (sensor-data QoS, the
   project's Fast DDS profile) and reports received rate, loss and latency p50/p95.
2. The simulated graph: the sim's camera rate as received, then --goals dry-run /trace goals
   (capture -> infer -> lift -> validate incl. IK planning; no motion) and per-stage latency.

Usage: python benchmarks/bench_pipeline.py [--goals 20] [--rate 30] [--seconds 10] [--plot out.png]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

PUBLISHER = r"""
import sys, time, numpy as np, rclpy
from rclpy.qos import qos_profile_sensor_data
from sensor_msgs.msg import Image
from robotracer.ros import conversions as conv
rate, seconds = float(sys.argv[1]), float(sys.argv[2])
rclpy.init(); node = rclpy.create_node("bench_camera_pub")
pub_rgb = node.create_publisher(Image, "/bench/rgb", qos_profile_sensor_data)
pub_depth = node.create_publisher(Image, "/bench/depth", qos_profile_sensor_data)
rgb = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
depth = np.random.default_rng(1).uniform(0.3, 3, (480, 640)).astype(np.float32)
time.sleep(2.0)  # discovery
t0 = time.time(); n = 0
while time.time() - t0 < seconds:
    stamp = conv.seconds_to_time(time.time())
    m1 = conv.numpy_to_image(rgb, "rgb8"); m1.header.stamp = stamp
    m2 = conv.numpy_to_image(depth, "32FC1"); m2.header.stamp = stamp
    pub_rgb.publish(m1); pub_depth.publish(m2); n += 1
    time.sleep(max(0.0, t0 + n / rate - time.time()))
print(n, flush=True)
"""


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its direct children (Linux /proc)."""
    import os

    def one(p: int) -> float:
        fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    total = one(pid)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1]) == pid:
                    total += one(int(entry))
            except (OSError, ValueError, IndexError):
                pass
    return total


def pct(values, q):
    return float(np.percentile(values, q)) if len(values) else float("nan")


def camera_transport(rate: float, seconds: float) -> dict:
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    from robotracer.ros import conversions as conv

    lat = {"rgb": [], "depth": []}
    node = rclpy.create_node("bench_camera_sub")

    def cb(kind):
        return lambda m: lat[kind].append(time.time() - conv.time_to_seconds(m.header.stamp))

    node.create_subscription(Image, "/bench/rgb", cb("rgb"), qos_profile_sensor_data)
    node.create_subscription(Image, "/bench/depth", cb("depth"), qos_profile_sensor_data)
    pub = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(rate), str(seconds)], stdout=subprocess.PIPE, text=True)
    t_end = time.time() + seconds + 10.0
    grace_until = None
    while time.time() < t_end:
        rclpy.spin_once(node, timeout_sec=0.01)
        if pub.poll() is not None:
            grace_until = grace_until or time.time() + 0.5  # late frames still in flight
            if time.time() > grace_until:
                break
    sent = int((pub.communicate()[0] or "0").strip().splitlines()[-1])
    node.destroy_node()
    out = {"sent": sent}
    for k, v in lat.items():
        ms = np.array(v) * 1e3
        out[k] = {"received": len(v), "lost": sent - len(v), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95)}
    return out


def core_costs(goals: int) -> dict[str, list[float]]:
    """CPU milliseconds of each stage's core computation in one process (no ROS transport)."""
    from robotracer.graph import load_graph
    from robotracer.planning.pick_place import PickPlaceParams, plan_pick_and_place
    from robotracer.robots.ur5e.kinematics import UR5eKinematics
    from robotracer.ros.conversions import transform_from_params
    from robotracer.sim.tabletop import TabletopConfig, TabletopSim
    from robotracer.trace.lifting import lift_trace
    from robotracer.tracers import Observation, make_tracer
    from robotracer.validation import WorkspaceBounds, validate_trace

    graph = load_graph("ur5")
    p = graph.node("task_server").parameters
    planning = PickPlaceParams(**graph.node("ur5_controller").parameters.get("planning", {}))  # as the graph plans
    sim = TabletopSim(TabletopConfig(camera_xyz=tuple(p["camera_xyz"]), camera_rpy=tuple(p["camera_rpy"])))
    frame = sim.render()
    obs = Observation(frame.rgb, frame.depth, sim.intrinsics, frame.segmentation, frame.labels, "sim_ground_truth")
    tracer, kin = make_tracer("geometric"), UR5eKinematics()
    T = transform_from_params(p["camera_xyz"], p["camera_rpy"])
    ws = WorkspaceBounds(lower=tuple(p["workspace"]["lower"]), upper=tuple(p["workspace"]["upper"]))
    mask = frame.segmentation == next(i for i, n in frame.labels.items() if n == "cup")
    out: dict[str, list[float]] = {"infer": [], "lift": [], "validate": [], "plan": []}
    for _ in range(goals):
        t = time.process_time()
        answer = tracer.infer(obs, "put the cup left of the plate")
        out["infer"].append(time.process_time() - t)
        t = time.process_time()
        lifted = lift_trace(answer.trace, sim.intrinsics, T, "base_link", frame.depth)
        out["lift"].append(time.process_time() - t)
        t = time.process_time()
        validate_trace(lifted, frame.depth, sim.intrinsics, T, mask, ws)
        out["validate"].append(time.process_time() - t)
        t = time.process_time()
        plan_pick_and_place(lifted, sim.arm_positions(), kin, planning)
        out["plan"].append(time.process_time() - t)
    sim.close()
    return {k: [x * 1e3 for x in v] for k, v in out.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--goals", type=int, default=20)
    ap.add_argument("--rate", type=float, default=30.0, help="camera transport test rate, Hz")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--plot", default=None, help="write a PNG of the per-stage latencies")
    args = ap.parse_args()

    os.environ.setdefault("ROS_DOMAIN_ID", "77")
    from robotracer.ros.node_runtime import configure_environment

    configure_environment()
    import rclpy

    core = core_costs(args.goals)
    print(f"core computation, CPU ms over {args.goals} goals (one process, no transport):")
    for k, v in core.items():
        print(f"  {k:9s} p50 {pct(v, 50):7.2f}  p95 {pct(v, 95):7.2f}")
    print(f"  {'sum':9s} p50 {sum(pct(v, 50) for v in core.values()):7.2f}  (validate and plan run in parallel in the graph)")

    rclpy.init()
    t = camera_transport(args.rate, args.seconds)
    print(f"camera transport 640x480 at {args.rate:.0f} Hz for {args.seconds:.0f} s: sent {t['sent']} frame pairs")
    for k in ("rgb", "depth"):
        r = t[k]
        print(f"  {k:5s}: received {r['received']} (lost {r['lost']}), latency p50 {r['p50_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms")

    from robotracer.cli.process_graph import ProcessGraph
    from robotracer.graph import load_graph
    from robotracer.ros.trace_client import TraceClient, spin_in_background
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import Image

    graph = load_graph("ur5")
    with ProcessGraph(graph, output=None) as running:
        node = rclpy.create_node("bench_pipeline")
        stamps = []
        node.create_subscription(Image, "/camera/color/image_raw", lambda m: stamps.append((time.time(), m.header.stamp.sec + m.header.stamp.nanosec * 1e-9)), qos_profile_sensor_data)
        ex = spin_in_background(node)
        client = TraceClient(node)
        deadline = time.time() + 180
        while not client.wait_for_server(1.0):
            if time.time() > deadline or running.dead():
                print("graph did not come up", running.dead())
                return 1
        time.sleep(3.0)
        stamps.clear()
        pids = {name: proc.pid for name, proc in running.procs.items()}
        cpu0, wall0 = {n: process_cpu_seconds(p) for n, p in pids.items()}, time.monotonic()
        time.sleep(5.0)
        idle_s = time.monotonic() - wall0
        idle = {n: 100.0 * (process_cpu_seconds(p) - cpu0[n]) / idle_s for n, p in pids.items()}
        print("CPU of each node process with no goal running (% of one core): "
              + ", ".join(f"{n} {v:.0f}" for n, v in idle.items()))
        if len(stamps) > 2:
            wall = stamps[-1][0] - stamps[0][0]
            sim = stamps[-1][1] - stamps[0][1]
            print(f"sim camera: {len(stamps) / wall:.1f} frames/s wall, {(len(stamps) - 1) / max(sim, 1e-9):.1f} frames per sim second, "
                  f"sim real-time factor {sim / wall:.2f}")
        instructions = ["put the cup left of the plate", "put the apple on the plate", "place the cup behind the plate",
                        "put the apple in front of the plate"]
        per_stage: dict[str, list[float]] = {}
        failures = 0
        for i in range(args.goals):
            o = client.send(instructions[i % len(instructions)], dry_run=True, timeout_s=120)
            if not o.success:
                failures += 1
                print(f"  goal {i}: {o.failed_stage}: {o.reason}")
                continue
            for k, v in o.timings.items():
                per_stage.setdefault(k, []).append(v * 1e3)
        ex.shutdown(timeout_sec=1.0)
        node.destroy_node()
    load = open("/proc/loadavg").read().split()[:3]
    print(f"{args.goals} dry-run goals ({failures} failed), per-stage latency (ms); load average {' '.join(load)} on {os.cpu_count()} cores:")
    total = np.zeros(len(next(iter(per_stage.values()), [])))
    for k, v in per_stage.items():
        print(f"  {k:9s} p50 {pct(v, 50):7.2f}  p95 {pct(v, 95):7.2f}  max {max(v):7.2f}")
        total = total + np.array(v)
    if len(total):
        print(f"  {'total':9s} p50 {pct(total, 50):7.2f}  p95 {pct(total, 95):7.2f}  (target < 50 ms)")
    if args.plot and per_stage:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.5, 3.5))
        ax.boxplot([*per_stage.values(), total], tick_labels=[*per_stage, "total"])
        ax.axhline(50.0, ls="--", lw=1, color="grey", label="target for the total: 50 ms")
        ax.legend(loc="upper left", fontsize=8)
        ax.set_ylabel("ms")
        ax.set_title(f"/trace latency per stage and in all, {args.goals} dry-run goals (2-core VM)")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"plot: {args.plot}")
    rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
