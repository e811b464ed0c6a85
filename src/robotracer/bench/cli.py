"""``robotracer bench tracespatial``: evaluate predictions on TraceSpatial-Bench."""

from __future__ import annotations

import argparse
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
    ts.add_argument("--no-images", action="store_true", help="skip the per-sample PNGs")
    ts.add_argument("--quiet", action="store_true", help="no progress bar")
    ts.set_defaults(func=run_tracespatial)
    bench.set_defaults(func=lambda args: (bench.print_help(), 2)[1])


def run_tracespatial(args: argparse.Namespace) -> int:
    from robotracer.bench.dataset import load_benchmark, load_predictions
    from robotracer.bench.evaluate import evaluate_3d, model_kind_for, summarize_groups
    from robotracer.bench.report import draw_sample, write_json, write_markdown, write_plot

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = args.model or Path(args.predictions).stem
    samples = load_benchmark(args.data)
    predictions = load_predictions(args.predictions)
    t0 = time.perf_counter()
    results = evaluate_3d(predictions, samples, model_kind_for(model), progress=not args.quiet)
    summary = summarize_groups(results)
    meta = {"model": model, "predictions": str(args.predictions), "data": str(args.data), "seconds": time.perf_counter() - t0}
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
    print(f"{model}: overall success {o['overall_success']:.4f} over {o['answers']} answers ({o['evaluated']} evaluated); report: {out / 'report.md'}")
    return 0
