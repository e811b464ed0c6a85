"""Time the TraceSpatial-Bench 3D scoring on N synthetic 640x480 samples (target: < 1.4 s per 100).

Scores the same N answers in this process and with a pool of forked workers (as
``robotracer bench tracespatial --workers`` does), checks both give identical per-sample results
and prints wall and CPU seconds with the machine's load average (the CPU is shared: compare
runs at similar load).

Run: python benchmarks/bench_scorer.py [--samples 100] [--workers 2]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

import numpy as np

from robotracer.bench.official import score_sample_3d
from robotracer.trace.metrics import batch_path_metrics, mean_path_metrics
from robotracer.validation.synthetic import render_depth, tabletop

_FRAME: dict = {}  # depth and mask, inherited by forked workers


def _score(record: dict):
    return score_sample_3d(record, _FRAME["depth"], _FRAME["mask"], _FRAME["mask"], "robotracer")


def _records(n: int) -> list[dict]:
    boxes, K, T = tabletop()
    depth, label = render_depth(boxes, K, T)
    _FRAME["depth"] = (depth * 1000).astype(np.uint16)
    _FRAME["mask"] = np.where(label == 1, 255, 0).astype(np.uint8)
    Tinv = T.inverse()
    rng = np.random.default_rng(0)
    cup, plate = boxes[1], boxes[3]
    records = []
    for i in range(n):
        gt = Tinv.apply(np.array([cup.top_centre, cup.top_centre + [0, 0, 0.25], plate.top_centre + [0, 0, 0.25], plate.top_centre + [0, 0, 0.1]]))
        pred = gt + rng.normal(0, 0.03, gt.shape)
        uv, z = K.project(pred)
        text = "[" + ", ".join(f"({u / K.width * 1000:.0f}, {v / K.height * 1000:.0f}, {d:.3f})" for (u, v), d in zip(uv, z)) + "]"
        records.append({"question_id": i, "model_prediction": text, "gt_depth_intrinsics": K.matrix.tolist(), "trajectory": gt.tolist(),
                        "bbox_center": Tinv.apply(plate.top_centre[None])[0].tolist(), "bbox_extent": [0.14, 0.14, 0.1],
                        "bbox_rotation": Tinv.rotation.tolist()})
    return records


def _digest(results) -> tuple:
    flags = tuple((r.start_in_mask, r.end_in_box_2d, r.start_distance, r.end_distance, r.max_collision_ratio, r.success) for r in results)
    m = mean_path_metrics(batch_path_metrics(np.stack([r.resampled_3d[0] for r in results]), np.stack([r.resampled_3d[1] for r in results])))
    return flags, tuple(m.values())


def _timed(fn):
    load = os.getloadavg()[0]
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0, load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2, help="forked workers for the parallel run (default 2)")
    args = parser.parse_args()
    records = _records(args.samples)
    _score(records[0])  # warm-up (imports, cached camera tables)

    def serial():
        res = [_score(r) for r in records]
        batch_path_metrics(np.stack([r.resampled_3d[0] for r in res]), np.stack([r.resampled_3d[1] for r in res]))
        return res

    def parallel():
        with mp.get_context("fork").Pool(args.workers) as pool:
            res = pool.map(_score, records, chunksize=max(1, len(records) // (4 * args.workers)))
        batch_path_metrics(np.stack([r.resampled_3d[0] for r in res]), np.stack([r.resampled_3d[1] for r in res]))
        return res

    res1, wall1, cpu1, load1 = _timed(serial)
    res2, wall2, _, load2 = _timed(parallel)
    per = 100.0 / args.samples
    print(f"{args.samples} samples 640x480 (images decoded), scoring + path metrics:")
    print(f"  1 process : {wall1:.2f} s wall ({wall1 * per:.2f} s per 100), {cpu1:.2f} s CPU; load average {load1:.2f}")
    print(f"  {args.workers} workers : {wall2:.2f} s wall ({wall2 * per:.2f} s per 100, pool start included); load average {load2:.2f}")
    same = _digest(res1) == _digest(res2)
    print(f"  identical per-sample results and path metrics: {same}; success rate {np.mean([r.success for r in res1]):.4f}")
    if not same:
        raise SystemExit("the parallel run's numbers differ from the serial run's")


if __name__ == "__main__":
    main()
