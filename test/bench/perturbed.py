"""Predictions derived from a benchmark's ground truth with the mistakes a scorer must handle (test helper)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

KINDS = ("exact", "noise", "far_noise", "half", "one_point", "two_points", "reversed", "sunk", "straight",
         "no_depth", "empty", "mixed", "garbage", "stutter", "stutter_start")


def _uvd(points: np.ndarray, K, width: int, height: int) -> np.ndarray:
    K = np.asarray(K, dtype=np.float64)
    z = points[:, 2]
    u = (points[:, 0] * K[0, 0] / z + K[0, 2]) / width * 1000.0
    v = (points[:, 1] * K[1, 1] / z + K[1, 2]) / height * 1000.0
    return np.column_stack([u, v, z])


def _text(uvd: np.ndarray, depth: bool = True) -> str:
    if depth:
        return "[" + ", ".join(f"({u:.0f}, {v:.0f}, {d:.3f})" for u, v, d in uvd) + "]"
    return "[" + ", ".join(f"({u:.0f}, {v:.0f})" for u, v, _ in uvd) + "]"


def perturbed_prediction(record: dict, kind: str, rng: np.random.Generator, width: int = 640, height: int = 480) -> str:
    """A RoboTracer-style answer for ``record`` made wrong in the way ``kind`` names (one of :data:`KINDS`)."""
    gt = np.asarray(record["trajectory"], dtype=np.float64)
    K = record["gt_depth_intrinsics"]
    if kind == "exact":
        pts = gt
    elif kind == "noise":
        pts = gt + rng.normal(0, 0.03, gt.shape)
    elif kind == "far_noise":
        pts = gt + rng.normal(0, 0.2, gt.shape)
    elif kind == "half":
        pts = gt[: len(gt) // 2]
    elif kind == "one_point":
        pts = gt[:1]
    elif kind == "two_points":
        pts = gt[[0, -1]]
    elif kind == "reversed":
        pts = gt[::-1]
    elif kind == "sunk":  # every point after the start 8 cm deeper along its ray: the object sweeps into the table
        pts = gt.copy()
        pts[1:] *= ((gt[1:, 2] + 0.08) / gt[1:, 2])[:, None]
    elif kind == "straight":  # dragged straight from start to end at table height
        pts = np.linspace(gt[0], gt[-1], 7)
    elif kind == "stutter":  # a point repeated mid-trace, as real answers often have
        pts = np.insert(gt, 3, gt[3], axis=0)
    elif kind == "stutter_start":  # the first point repeated: NaN start after resampling
        pts = np.insert(gt, 0, gt[0], axis=0)
    elif kind == "no_depth":
        return _text(_uvd(gt, K, width, height), depth=False)
    elif kind == "empty":
        return ""
    elif kind == "mixed":
        uvd = _uvd(gt, K, width, height)
        return "[" + ", ".join(f"({u:.0f}, {v:.0f}, {d:.3f})" if i % 2 else f"({u:.0f}, {v:.0f})" for i, (u, v, d) in enumerate(uvd)) + "]"
    elif kind == "garbage":
        return "I cannot see the object."
    else:
        raise ValueError(f"unknown perturbation {kind!r}; choose from {KINDS}")
    return _text(_uvd(pts, K, width, height))


def as_json_answer(text: str) -> str:
    """The same points as a Gemini/Qwen-style fenced JSON answer."""
    import re

    rows = [[float(v) for v in m.split(",")] for m in re.findall(r"\(([^()]*)\)", text)]
    return "```json\n" + json.dumps([{"point": r} for r in rows]) + "\n```" if rows else "```json\n[]\n```"


def perturbed_predictions(bench_dir: str | Path, seed: int = 0, json_answers: bool = False) -> list[dict]:
    """One prediction per benchmark record, cycling through :data:`KINDS` (JSONL rows)."""
    records = json.loads((Path(bench_dir) / "trajectory_dataset.json").read_text())
    rng = np.random.default_rng(seed)
    out = []
    for i, rec in enumerate(records):
        text = perturbed_prediction(rec, KINDS[(i + seed) % len(KINDS)], rng)
        out.append({"question_id": rec["id"], "model_prediction": as_json_answer(text) if json_answers else text})
    return out
