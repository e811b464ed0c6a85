"""Time the TraceSpatial-Bench 3D scoring on N synthetic 640x480 samples (target: < 1.4 s per 100).

Run: python benchmarks/bench_scorer.py [--samples 100]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import numpy as np

from robotracer.bench.official import score_sample_3d
from robotracer.trace.metrics import batch_path_metrics
from robotracer.validation.synthetic import render_depth, tabletop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    boxes, K, T = tabletop()
    depth, label = render_depth(boxes, K, T)
    depth_mm = (depth * 1000).astype(np.uint16)
    mask = np.where(label == 1, 255, 0).astype(np.uint8)
    Tinv = T.inverse()
    rng = np.random.default_rng(0)
    cup, plate = boxes[1], boxes[3]
    records = []
    for i in range(args.samples):
        gt = Tinv.apply(np.array([cup.top_centre, cup.top_centre + [0, 0, 0.25], plate.top_centre + [0, 0, 0.25], plate.top_centre + [0, 0, 0.1]]))
        pred = gt + rng.normal(0, 0.03, gt.shape)
        uv, z = K.project(pred)
        text = "[" + ", ".join(f"({u / K.width * 1000:.0f}, {v / K.height * 1000:.0f}, {d:.3f})" for (u, v), d in zip(uv, z)) + "]"
        records.append({"question_id": i, "model_prediction": text, "gt_depth_intrinsics": K.matrix.tolist(), "trajectory": gt.tolist(),
                        "bbox_center": Tinv.apply(plate.top_centre[None])[0].tolist(), "bbox_extent": [0.14, 0.14, 0.1],
                        "bbox_rotation": Tinv.rotation.tolist()})
    score_sample_3d(records[0], depth_mm, mask, mask, "robotracer")  # warm-up (imports)
    t0 = time.perf_counter()
    results = [score_sample_3d(r, depth_mm, mask, mask, "robotracer") for r in records]
    t1 = time.perf_counter()
    batch_path_metrics(np.stack([r.resampled_3d[0] for r in results]), np.stack([r.resampled_3d[1] for r in results]))
    t2 = time.perf_counter()
    print(f"{args.samples} samples 640x480: per-sample scoring {t1 - t0:.2f} s, batched path metrics {t2 - t1:.3f} s, "
          f"total {t2 - t0:.2f} s ({(t2 - t0) / args.samples * 1e3:.1f} ms/sample; images already decoded)")
    print(f"success rate {np.mean([r.success for r in results]):.4f}")


if __name__ == "__main__":
    main()
