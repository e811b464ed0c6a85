"""Benchmark outputs: JSON, a Markdown report, a metrics plot and per-sample images with both traces."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from robotracer.bench.official import SampleResult

RATES = ("start_in_mask_2d", "end_in_box_2d", "start_success_3d", "end_success_3d", "no_collision", "overall_success")


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:.4f}"


def sample_rows(results: list[SampleResult]) -> list[dict]:
    keys = ("question_id", "category", "step", "status", "message", "evaluated", "n_points", "start_in_mask", "end_in_box_2d",
            "start_distance", "end_distance", "start_success", "end_success", "collision", "max_collision_ratio", "success")
    return [{k: getattr(r, k) for k in keys} for r in results]


def write_json(path: Path, summary: dict, results: list[SampleResult], meta: dict) -> None:
    path.write_text(json.dumps({"meta": meta, "summary": summary, "samples": sample_rows(results)}, indent=2, default=str))


def write_markdown(path: Path, summary: dict, results: list[SampleResult], meta: dict) -> None:
    o = summary["overall"]
    mode = meta.get("mode", "3d")
    lines = [f"# TraceSpatial-Bench ({mode.upper()} task): {meta.get('model', '')}", "", f"Predictions: `{meta.get('predictions', '')}`  ",
             f"Answers: {o['answers']}, evaluated{' in 3D' if mode == '3d' else ''}: {o['evaluated']}", ""]
    lines += ["| metric | value |", "|---|---|"] + [f"| {k} | {_fmt(o[k])} |" for k in RATES]
    lines += [f"| 3D {k.upper()} (m) | {v} |" for k, v in o["path_3d"].items()]
    lines += [f"| 2D {k.upper()} (normalised) | {v} |" for k, v in o["path_2d"].items()]
    for key, title in (("by_category", "category"), ("by_step", "steps")):
        lines += ["", f"## By {title}", "", f"| {title} | n | " + " | ".join(RATES) + " |", "|---" * (len(RATES) + 2) + "|"]
        for g, s in summary[key].items():
            lines.append(f"| {g} | {s['answers']} | " + " | ".join(_fmt(s[k]) for k in RATES) + " |")
    skipped = [r for r in results if r.status != "ok" or r.message]
    if skipped:
        lines += ["", "## Samples with problems", "", "| id | status | message |", "|---|---|---|"]
        lines += [f"| {r.question_id} | {r.status} | {r.message} |" for r in skipped]
    if mode == "2d":
        lines += ["", "Deviation from the official scorer: a JSON answer mixing (x, y) and (x, y, d) points is scored by its x, y",
                  "instead of stopping the run; unreadable samples count as misses.", ""]
    else:
        lines += ["", "Deviations from the official scorer: answers mixing (x, y) and (x, y, d) points are skipped and listed",
                  "(status `mixed_dimensions`) instead of hanging the run; a trace repeating its first point (NaN start after",
                  "resampling, on which the official Fréchet never finishes) is left out of the 3D path averages and listed.", ""]
    path.write_text("\n".join(lines))


def write_plot(path: Path, summary: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    o = summary["overall"]
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    vals = [o[k] or 0.0 for k in RATES]
    a.bar(range(len(RATES)), vals, color="tab:blue")
    a.set_xticks(range(len(RATES)), [k.replace("_", "\n") for k in RATES], fontsize=8)
    a.set_ylim(0, 1)
    a.set_title("rates")
    names = list(o["path_2d"])
    x = np.arange(len(names))
    b.bar(x - 0.2, [o["path_3d"].get(n, 0.0) for n in names], 0.4, label="3D (m)")
    b.bar(x + 0.2, [o["path_2d"][n] for n in names], 0.4, label="2D (normalised)")
    b.set_xticks(x, [n.upper() for n in names])
    b.legend()
    b.set_title("path metrics")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def draw_sample(image_path: Path, result: SampleResult, out_path: Path) -> bool:
    """Draw the GT (green) and predicted (red) traces on the image; False if there is nothing to draw."""
    img = cv2.imread(str(image_path), cv2.IMREAD_COLOR)
    if img is None or result.pred_2d is None:
        return False
    for pts, color in ((result.gt_2d, (0, 200, 0)), (result.pred_2d, (0, 0, 255))):
        if pts is None or not np.all(np.isfinite(pts)):
            continue
        p = np.round(pts).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [p], False, color, 2, cv2.LINE_AA)
        cv2.circle(img, tuple(int(c) for c in p[0, 0]), 5, color, -1)
        cv2.drawMarker(img, tuple(int(c) for c in p[-1, 0]), color, cv2.MARKER_CROSS, 12, 2)
    label = f"{result.question_id}: {'success' if result.success else 'fail'}"
    cv2.putText(img, label, (8, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
    return bool(cv2.imwrite(str(out_path), img))
