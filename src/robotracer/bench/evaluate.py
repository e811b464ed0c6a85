"""Evaluate predictions on TraceSpatial-Bench: per-sample results and official aggregate numbers."""

from __future__ import annotations

import multiprocessing as mp
from collections import defaultdict

import numpy as np

from robotracer.bench.dataset import BenchSample, load_image_size, load_images, load_mask
from robotracer.bench.official import SampleResult, score_sample_3d
from robotracer.bench.official_2d import score_sample_2d
from robotracer.trace.metrics import batch_path_metrics, mean_path_metrics


def model_kind_for(model_name: str) -> str:
    """Which official parser a model's answers get: ``robotracer`` (tuples) or ``json`` (fenced JSON)."""
    if "RoboTracer" in model_name:
        return "robotracer"
    if "Qwen" in model_name or "Gemini" in model_name:
        return "json"
    return "robotracer"


def _score_one(task: tuple) -> SampleResult:
    """One prediction scored in ``mode`` ("3d" | "2d"); file and data problems become an error result."""
    mode, pred, sample, model_kind = task
    qid = pred["question_id"]
    if sample is None:
        return SampleResult(qid, status="error", message=f"question {qid!r} is not in the benchmark")
    record = {**sample.record, **{k: v for k, v in pred.items() if k in ("model_prediction", "question_id")}}
    try:
        if mode == "2d":
            width, height = load_image_size(sample.image_path)
            return score_sample_2d(record, width, height, load_mask(sample.mask_path), model_kind)
        depth, mask_pil, mask_gray = load_images(sample)
        return score_sample_3d(record, depth, mask_pil, mask_gray, model_kind)
    except (OSError, ValueError, KeyError, IndexError) as exc:
        return SampleResult(qid, str(record.get("category", "")), record.get("step"), status="error", message=f"{type(exc).__name__}: {exc}")


def _evaluate(mode: str, predictions: list[dict], samples: dict, model_kind: str, progress: bool, workers: int) -> list[SampleResult]:
    from tqdm import tqdm

    tasks = [(mode, p, samples.get(p["question_id"]), model_kind) for p in predictions]
    bar = dict(total=len(tasks), desc=f"TraceSpatial-Bench {mode.upper()}", disable=not progress)
    if workers <= 1 or len(tasks) < 2 * workers or "fork" not in mp.get_all_start_methods():
        return [_score_one(t) for t in tqdm(tasks, **bar)]
    # forked workers inherit the imported modules (no start-up cost); every sample is scored by the
    # same deterministic code wherever it runs, so the numbers do not depend on ``workers``
    with mp.get_context("fork").Pool(workers) as pool:
        return list(tqdm(pool.imap(_score_one, tasks, chunksize=max(1, min(16, len(tasks) // (4 * workers)))), **bar))


def evaluate_3d(predictions: list[dict], samples: dict, model_kind: str = "robotracer", progress: bool = True,
                workers: int = 1) -> list[SampleResult]:
    """Score every prediction on the 3D task; problems are recorded in the sample's status, never raised.

    Args:
        workers: processes scoring samples in parallel (forked; 1 = in this process).
    """
    return _evaluate("3d", predictions, samples, model_kind, progress, workers)


def evaluate_2d(predictions: list[dict], samples: dict, model_kind: str = "robotracer", progress: bool = True,
                workers: int = 1) -> list[SampleResult]:
    """Score every prediction on the 2D task (official ``compute_accuracy_2d``); problems recorded per sample."""
    return _evaluate("2d", predictions, samples, model_kind, progress, workers)


def _rate(flags) -> float | None:
    flags = list(flags)
    return float(np.mean(flags)) if flags else None


def _aligned(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A one-point trace (nothing to resample) repeated to the other's length.

    The official scorer broadcasts it against the other trace; repeating gives the same DFD,
    Hausdorff, RMSE and MAE and lets every pair go through one batched computation.
    """
    if len(pred) == 1:
        pred = np.repeat(pred, len(gt), axis=0)
    if len(gt) == 1:
        gt = np.repeat(gt, len(pred), axis=0)
    return pred, gt


def batch_pairs(pairs: list[tuple[np.ndarray, np.ndarray]]) -> list:
    """Path metrics of ``(pred, gt)`` pairs, batched (one-point traces aligned first)."""
    if not pairs:
        return []
    aligned = [_aligned(p, g) for p, g in pairs]
    return batch_path_metrics(np.stack([p for p, _ in aligned]), np.stack([g for _, g in aligned]))


def summarize(results: list[SampleResult]) -> dict:
    """The official numbers: rates over evaluated samples, overall success over all answers, path metrics."""
    ev = [r for r in results if r.evaluated]
    n_all = max(len(results), 1)
    ok3 = [r for r in ev if not (np.isnan(r.resampled_3d[0]).any() or np.isnan(r.resampled_3d[1]).any())]
    m3 = batch_pairs([r.resampled_3d for r in ok3])
    ok2 = [r for r in ev if not (np.isnan(r.resampled_2d[0]).any() or np.isnan(r.resampled_2d[1]).any())]
    m2 = batch_pairs([r.resampled_2d for r in ok2])
    starts = [r.start_distance for r in ev if r.start_distance is not None]
    ends = [r.end_distance for r in ev if r.end_distance is not None]
    return {
        "answers": len(results),
        "evaluated": len(ev),
        "start_in_mask_2d": _rate(r.start_in_mask for r in ev),
        "end_in_box_2d": _rate(r.end_in_box_2d for r in ev),
        "start_success_3d": _rate(r.start_success for r in ev),
        "end_success_3d": _rate(r.end_success for r in ev),
        "no_collision": (1.0 - float(np.mean([r.collision for r in ev]))) if ev else None,
        "overall_success": sum(r.success for r in results) / n_all,
        "start_distance_mean_m": float(np.mean(starts)) if starts else None,
        "end_distance_mean_m": float(np.mean(ends)) if ends else None,
        "path_3d": mean_path_metrics(m3),
        "path_2d": mean_path_metrics(m2),
        "skipped": {s: sum(r.status == s for r in results) for s in ("empty", "no_depth", "mixed_dimensions", "error")},
    }


def summarize_2d(results: list[SampleResult]) -> dict:
    """The official 2D numbers: both rates and the path metrics over all answers (unreadable samples count as misses).

    The 3D-only keys are present and ``None`` so that reports treat both modes alike.
    """
    ev = [r for r in results if r.evaluated]
    n_all = len(results)
    ok2 = [r for r in ev if not (np.isnan(r.resampled_2d[0]).any() or np.isnan(r.resampled_2d[1]).any())]
    return {
        "mode": "2d",
        "answers": n_all,
        "evaluated": len(ev),
        "start_in_mask_2d": sum(bool(r.start_in_mask) for r in results) / n_all if n_all else None,
        "end_in_box_2d": sum(bool(r.end_in_box_2d) for r in results) / n_all if n_all else None,
        "start_success_3d": None,
        "end_success_3d": None,
        "no_collision": None,
        "overall_success": None,
        "start_distance_mean_m": None,
        "end_distance_mean_m": None,
        "path_3d": {},
        "path_2d": mean_path_metrics(batch_pairs([r.resampled_2d for r in ok2])),
        "skipped": {s: sum(r.status == s for r in results) for s in ("empty", "error")},
    }


def summarize_groups(results: list[SampleResult], summarize_fn=summarize) -> dict:
    """``summarize_fn`` (:func:`summarize` or :func:`summarize_2d`) overall and per category and per step count."""
    out = {"overall": summarize_fn(results), "by_category": {}, "by_step": {}}
    for key, attr in (("by_category", "category"), ("by_step", "step")):
        groups = defaultdict(list)
        for r in results:
            groups[str(getattr(r, attr))].append(r)
        out[key] = {g: summarize_fn(rs) for g, rs in sorted(groups.items())}
    return out
