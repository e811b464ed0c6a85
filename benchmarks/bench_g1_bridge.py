"""Benchmark: the G1 bridge's 500 Hz loop real-time factor while rendering the head camera, and arm IK time per waypoint.

Run from the repository root: ``python benchmarks/bench_g1_bridge.py [--seconds 10] [--camera-hz 10]``.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402

from robotracer.robots.g1 import joints as J  # noqa: E402
from robotracer.robots.g1.ik import G1ArmIK  # noqa: E402
from robotracer.sim.g1.bridge import BridgeConfig, G1SdkBridge  # noqa: E402
from robotracer.sim.g1.sim import G1Sim  # noqa: E402


def bench_bridge(seconds: float, camera_hz: float, state_hz: float, domain: int) -> dict:
    sim = G1Sim()
    bridge = G1SdkBridge(sim, BridgeConfig(domain_id=domain, camera_hz=camera_hz, state_hz=state_hz, realtime=False))
    stats = bridge.run(seconds)
    bridge.close()
    return {
        "sim_seconds": round(stats.sim_seconds, 3),
        "wall_seconds": round(stats.wall_seconds, 3),
        "real_time_factor": round(stats.real_time_factor, 3),
        "physics_hz": 1.0 / sim.timestep,
        "state_hz": state_hz,
        "camera_frames": stats.frames_rendered,
        "camera_hz_wall": round(stats.frames_rendered / stats.wall_seconds, 2),
        "camera_hz_requested": camera_hz,
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
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--seconds", type=float, default=10.0, help="simulated seconds per bridge run")
    p.add_argument("--camera-hz", type=float, default=10.0)
    p.add_argument("--state-hz", type=float, default=500.0)
    p.add_argument("--domain", type=int, default=91)
    args = p.parse_args()
    result = {
        "bridge_no_camera": bench_bridge(args.seconds, 0.0, args.state_hz, args.domain),
        "bridge_with_camera": bench_bridge(args.seconds, args.camera_hz, args.state_hz, args.domain),
        # rt/lowstate at 100 Hz (the driver's command rate); physics and motor PD still at 500 Hz
        "bridge_with_camera_state_100hz": bench_bridge(args.seconds, args.camera_hz, 100.0, args.domain),
        "ik": bench_ik(),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
