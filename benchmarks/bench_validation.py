"""Time the live pre-execution validation of one trace on a 640x480 depth frame (target: < 30 ms).

Run: python benchmarks/bench_validation.py [--repeats N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from robotracer.trace.types import Trace3D
from robotracer.validation import WorkspaceBounds, validate_trace
from robotracer.validation.synthetic import render_depth, tabletop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    boxes, K, T = tabletop()
    depth, label = render_depth(boxes, K, T)
    mask = label == [b.name for b in boxes].index("cup")
    start = boxes[1].top_centre
    end = boxes[3].top_centre + [0.0, 0.0, 0.10]
    trace = Trace3D(np.array([start, start + [0, 0, 0.2], [0.40, 0.05, 0.36], end + [0, 0, 0.15], end]), "base_link")
    ws = WorkspaceBounds(lower=(0.0, -0.6, -0.1), upper=(1.0, 0.6, 0.8))
    report = validate_trace(trace, depth, K, T, mask, ws)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        validate_trace(trace, depth, K, T, mask, ws)
        times.append(time.perf_counter() - t0)
    ms = np.array(times) * 1e3
    print(f"validate_trace, {K.width}x{K.height} depth, {int(mask.sum())} object pixels, ok={report.ok}")
    print(f"median {np.median(ms):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms, min {ms.min():.1f} ms over {args.repeats} runs")


if __name__ == "__main__":
    main()
