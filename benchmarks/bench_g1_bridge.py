"""Benchmark: the G1 bridge's 500 Hz loop against its target, and arm IK time per waypoint.

Target: the bridge keeps up with real time (real-time factor >= 1 when run as fast as it can) with
``rt/lowstate`` at 500 Hz while the head camera renders at >= 10 frames per wall second. Each run
has a driver in another process streaming ``rt/arm_sdk`` at 100 Hz (and reading every state), as
in the stack, so command intake and the driver's share of the two cores are included. Reports the
per-step wall time of physics, publishing and command intake, the camera rate, and the load average.

Run from the repository root: ``python benchmarks/bench_g1_bridge.py [--seconds 10] [--camera-hz 10]``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from robotracer.robots.g1 import joints as J  # noqa: E402
from robotracer.robots.g1.ik import G1ArmIK  # noqa: E402
from robotracer.sim.g1.bridge import BridgeConfig, BridgeStats, G1SdkBridge  # noqa: E402
from robotracer.sim.g1.sim import G1Sim  # noqa: E402


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def _drive(domain: int, connected, stop) -> None:
    """A driver streaming rt/arm_sdk at 100 Hz (weight 0) until ``stop`` is set."""
    from robotracer.robots.g1.driver import G1Driver, G1DriverConfig

    driver = G1Driver(G1DriverConfig(domain_id=domain, interface="lo", state_timeout=5.0))
    driver.connect(timeout=120.0)
    connected.set()
    stop.wait()
    driver.disconnect()


def bench_bridge(seconds: float, camera_hz: float, state_hz: float, domain: int, render_threads: int) -> dict:
    sim = G1Sim()
    config = BridgeConfig(domain_id=domain, camera_hz=camera_hz, state_hz=state_hz, realtime=False, render_threads=render_threads)
    bridge = G1SdkBridge(sim, config)
    ctx = mp.get_context("spawn")
    connected, stop = ctx.Event(), ctx.Event()
    driver = ctx.Process(target=_drive, args=(domain, connected, stop), daemon=True)
    driver.start()
    try:
        while not connected.is_set():  # warm-up: the driver starts, the camera process starts
            bridge.run(0.2)
        bridge.run(0.5)
        bridge.stats = BridgeStats()
        load = _load()
        stats = bridge.run(seconds)
    finally:
        stop.set()
        driver.join(10.0)
        if driver.is_alive():
            driver.kill()
        bridge.close()
    per_step = lambda s: round(1e3 * s / max(stats.steps, 1), 4)  # noqa: E731
    return {
        "sim_seconds": round(stats.sim_seconds, 3),
        "wall_seconds": round(stats.wall_seconds, 3),
        "real_time_factor": round(stats.real_time_factor, 3),
        "physics_hz": 1.0 / sim.timestep,
        "state_hz": state_hz,
        "camera_hz_requested": camera_hz,
        "camera_frames": stats.frames_rendered,
        "camera_hz_wall": round(stats.frames_rendered / stats.wall_seconds, 2),
        "arm_sdk_received": stats.arm_sdk_received,
        "per_step_ms": {
            "total_wall": per_step(stats.wall_seconds),
            "physics": per_step(stats.physics_seconds),
            "state_publish": per_step(stats.state_publish_seconds),
            "command_apply": per_step(stats.command_apply_seconds),
            "command_decode_dds_threads": per_step(stats.command_decode_seconds),
        },
        "load_avg_1_5_15": load,
    }


def bench_ik(n: int = 200) -> dict:
    ik = G1ArmIK("left")
    q = ik.solve(np.array([0.26, 0.28, 0.08]), np.eye(3), J.STAND_POSTURE[list(J.ARMS["left"])]).q
    t = np.linspace(0.0, 1.0, n)
    path = np.stack([0.26 + 0.08 * t, 0.28 - 0.18 * t, 0.08 + 0.08 * np.sin(np.pi * t)], axis=1)  # 1 mm..2 mm apart
    times, errors = [], []
    for p in path:
        sol = ik.solve(p, np.eye(3), q)
        times.append(sol.seconds)
        errors.append(sol.position_error)
        q = sol.q
    ms = np.array(times) * 1e3
    return {
        "waypoints": n,
        "ik_ms_mean": round(float(ms.mean()), 3),
        "ik_ms_p95": round(float(np.percentile(ms, 95)), 3),
        "ik_ms_max": round(float(ms.max()), 3),
        "max_position_error_mm": round(float(max(errors)) * 1e3, 3),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=10.0, help="simulated seconds per bridge run")
    p.add_argument("--camera-hz", type=float, default=10.0, help="head camera rate, wall clock")
    p.add_argument("--state-hz", type=float, default=500.0, help="rt/lowstate rate")
    p.add_argument("--render-threads", type=int, default=0, help="Mesa llvmpipe threads (0 = one per CPU)")
    p.add_argument("--domain", type=int, default=91)
    args = p.parse_args()
    target = bench_bridge(args.seconds, args.camera_hz, args.state_hz, args.domain, args.render_threads)
    result = {
        "cpus": os.cpu_count(),
        "target": {"real_time_factor_min": 1.0, "camera_hz_wall_min": 10.0, "state_hz": 500.0},
        "bridge_with_camera": target,
        "target_met": target["real_time_factor"] >= 1.0 and target["camera_hz_wall"] >= 10.0,
        "bridge_no_camera": bench_bridge(args.seconds, 0.0, args.state_hz, args.domain, args.render_threads),
        "ik": bench_ik(),
        "load_avg_1_5_15_end": _load(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
