"""``robotracer bench tracespatial`` (score predictions on TraceSpatial-Bench) and ``bench make-sim``."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path


def register(subparsers) -> None:
    bench = subparsers.add_parser("bench", help="benchmarks: TraceSpatial-Bench evaluation")
    sub = bench.add_subparsers(dest="bench_command", metavar="BENCH")
    ts = sub.add_parser("tracespatial", help="score predictions on TraceSpatial-Bench with the official metrics")
    ts.add_argument("--data", required=True, help="benchmark folder (trajectory_dataset.json + raw_data/, or *.jsonl records)")
    ts.add_argument("--predictions", required=True, help="JSONL with question_id and model_prediction")
    ts.add_argument("--out", required=True, help="output folder (results.json, report.md, metrics.png, samples/)")
    ts.add_argument("--model", default=None, help="model name (RoboTracer* = tuple answers, Qwen*/Gemini* = fenced JSON); default: the predictions file name")
    ts.add_argument("--mode", choices=("3d", "2d"), default="3d",
                    help="3d: the (x, y, d) task with 3D start/end/collision and derived 2D numbers (default); "
                         "2d: the official 2D task (project, resample in pixels, every answer counted)")
    ts.add_argument("--workers", type=int, default=min(os.cpu_count() or 1, 8),
                    help="processes scoring samples in parallel (default: the CPU count, at most 8; 1 = none)")
    ts.add_argument("--no-images", action="store_true", help="skip the per-sample PNGs")
    ts.add_argument("--quiet", action="store_true", help="no progress bar")
    ts.set_defaults(func=run_tracespatial)
    _register_make_sim(sub)
    bench.set_defaults(func=lambda args: (bench.print_help(), 2)[1])


def run_tracespatial(args: argparse.Namespace) -> int:
    from robotracer.bench.dataset import load_benchmark, load_predictions
    from robotracer.bench.evaluate import evaluate_2d, evaluate_3d, model_kind_for, summarize, summarize_2d, summarize_groups
    from robotracer.bench.report import draw_sample, write_json, write_markdown, write_plot

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = args.model or Path(args.predictions).stem
    samples = load_benchmark(args.data)
    predictions = load_predictions(args.predictions)
    t0 = time.perf_counter()
    evaluate, summarize_fn = (evaluate_2d, summarize_2d) if args.mode == "2d" else (evaluate_3d, summarize)
    results = evaluate(predictions, samples, model_kind_for(model), progress=not args.quiet, workers=args.workers)
    summary = summarize_groups(results, summarize_fn)
    meta = {"model": model, "mode": args.mode, "predictions": str(args.predictions), "data": str(args.data),
            "seconds": time.perf_counter() - t0}
    write_json(out / "results.json", summary, results, meta)
    write_markdown(out / "report.md", summary, results, meta)
    write_plot(out / "metrics.png", summary)
    if not args.no_images:
        (out / "samples").mkdir(exist_ok=True)
        for r in results:
            s = samples.get(r.question_id)
            if s is not None:
                draw_sample(s.image_path, r, out / "samples" / f"{r.question_id}.png")
    o = summary["overall"]
    if args.mode == "2d":
        print(f"{model} (2D): start in mask {o['start_in_mask_2d']:.4f}, end in box {o['end_in_box_2d']:.4f} "
              f"over {o['answers']} answers; report: {out / 'report.md'}")
    else:
        print(f"{model}: overall success {o['overall_success']:.4f} over {o['answers']} answers ({o['evaluated']} evaluated); report: {out / 'report.md'}")
    return 0


def _register_make_sim(sub) -> None:
    ms = sub.add_parser("make-sim", help="render a TraceSpatial-Bench-style benchmark (official layout) from the MuJoCo tabletop")
    ms.add_argument("--out", required=True, help="output folder (trajectory_dataset.json + raw_data/)")
    ms.add_argument("--samples", type=int, default=100, help="number of samples (default 100)")
    ms.add_argument("--seed", type=int, default=0, help="master seed; the same seed writes the same files (default 0)")
    ms.add_argument("--cameras", type=int, default=4, help="number of perturbed camera poses (default 4)")
    ms.add_argument("--max-steps", type=int, choices=(2, 3), default=2,
                    help="2: the original task mix (1-2 reasoning steps); 3: also distance-from-a-midpoint prompts (3 steps)")
    ms.add_argument("--predict", default=None, metavar="TRACER",
                    help="also run this tracer backend (e.g. geometric) on every frame and write predictions_TRACER.jsonl")
    ms.add_argument("--quiet", action="store_true", help="no progress bar")
    ms.set_defaults(func=run_make_sim)


def run_make_sim(args: argparse.Namespace) -> int:
    from robotracer.bench.make_sim import SimBenchConfig, make_sim_benchmark

    if args.samples < 1 or args.cameras < 1:
        print(f"--samples and --cameras must be >= 1 (got {args.samples}, {args.cameras})")
        return 2
    cfg = SimBenchConfig(samples=args.samples, seed=args.seed, cameras=args.cameras, max_steps=args.max_steps)
    stats = make_sim_benchmark(args.out, cfg, progress=not args.quiet, predict_tracer=args.predict)
    per = stats.seconds / max(stats.written, 1)
    print(f"wrote {stats.written} samples to {args.out} in {stats.seconds:.1f} s ({per:.2f} s/sample); "
          f"skipped layouts: {stats.skipped or 'none'}"
          + (f"; {args.predict} refused {stats.refused}" if args.predict else ""))
    return 0
