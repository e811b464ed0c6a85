"""Time UR5e IK (analytic + refinement), FK, planning, physics and rendering.

Run: ``python benchmarks/bench_ik.py`` (with ``src`` on PYTHONPATH or the package installed).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from robotracer.sim.tabletop import TabletopSim  # first: selects headless rendering
from robotracer.planning.pick_place import check_reachability, plan_pick_and_place
from robotracer.robots.ur5e.kinematics import UR5eKinematics
from robotracer.sim.ur5e_model import HOME_Q
from robotracer.trace.types import Trace3D


def _timed(fn, n: int) -> tuple[np.ndarray, float]:
    """Wall seconds per call ``(n,)`` and the mean process CPU seconds per call (robust to a busy machine)."""
    out = np.empty(n)
    cpu = time.process_time()
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        out[i] = time.perf_counter() - t
    return out, (time.process_time() - cpu) / n


def _report(name: str, timing: tuple[np.ndarray, float]) -> None:
    ms, cpu_ms = timing[0] * 1e3, timing[1] * 1e3
    print(
        f"{name:<34s} wall mean {ms.mean():8.3f} ms  p50 {np.median(ms):8.3f}  p95 {np.percentile(ms, 95):8.3f}"
        f"  | cpu mean {cpu_ms:8.3f} ms  (n={len(ms)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("-n", type=int, default=500, help="IK calls")
    ap.add_argument("--sim", action="store_true", help="also time physics and rendering")
    args = ap.parse_args()

    kin = UR5eKinematics()
    rng = np.random.default_rng(0)
    qs = rng.uniform(-np.pi, np.pi, (args.n, 6))
    qs[:, 2] = rng.uniform(-2.8, 2.8, args.n)
    targets = [kin.fk(q) for q in qs]
    _report("fk (MuJoCo)", _timed(lambda i: kin.fk(qs[i]), args.n))
    _report("ik (analytic + refine, seeded)", _timed(lambda i: kin.ik(targets[i], qs[i] + 0.05), args.n))

    start, end = np.array([0.47, 0.24, 0.09]), np.array([0.50, -0.15, 0.09])
    up = np.array([0, 0, 0.12])
    trace = Trace3D(np.array([start, start + up / 2, start + up, 0.5 * (start + end) + up, end + up, end + up / 2, end]), "base_link")
    _report("check_reachability (7 points)", _timed(lambda i: check_reachability(trace, np.array(HOME_Q), kin), 10))
    _report("plan_pick_and_place (7 points)", _timed(lambda i: plan_pick_and_place(trace, np.array(HOME_Q), kin), 10))

    if args.sim:
        sim = TabletopSim()
        sim.render()
        _report("render rgb+depth+seg 640x480", _timed(lambda i: sim.render(), 30))
        _report("render rgb+depth 640x480", _timed(lambda i: sim.render(segmentation=False), 30))
        plan = plan_pick_and_place(trace, sim.arm_positions(), kin, q_home=sim.arm_positions())
        steps_per_frame = int(round(1.0 / 15.0 / sim.timestep))
        sim_time, t, cpu = 0.0, time.perf_counter(), time.process_time()
        frames = 0
        while sim_time < plan.duration:
            q, g, _, _ = plan.sample(sim_time)
            sim.set_arm_targets(q)
            sim.set_gripper(g)
            sim.step(steps_per_frame)
            sim.render(segmentation=False)
            sim_time += steps_per_frame * sim.timestep
            frames += 1
        wall, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(
            f"pick-place with a 15 Hz RGB-D camera: {sim_time:.1f} s simulated in {wall:.1f} s wall / {cpu:.1f} s cpu -> "
            f"real-time factor {sim_time / wall:.2f} wall, {sim_time / cpu:.2f} cpu ({frames} frames)"
        )
        sim.close()


if __name__ == "__main__":
    main()
