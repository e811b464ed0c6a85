"""The official TraceSpatial-Bench 3D scoring, reproduced exactly and fast.

Semantics (see the project's notes on the official ``summarize_acc.py``):

- answers are read like the official parsers: RoboTracer text = every ``(x, y[, d])`` tuple,
  Qwen/Gemini = the first fenced JSON block; x, y / 1000 rounded to 6 decimals, float32;
- an answer with no depth (empty, 2-number tuples) is *skipped*: left out of every rate except
  overall success, whose denominator is all answers;
- **deviation**: an answer mixing 2- and 3-number tuples makes the official scorer hang
  (exponential recursive Fréchet on NaN); here it is skipped like a no-depth answer and
  reported per sample as ``mixed_dimensions``;
- W, H from the gt-depth PNG; start-in-mask = first raw point, Python ``round``, mask > 0;
  end = last three raw points (only the last if fewer) against the box (3D: oriented box,
  < 0.20 m; 2D: projected box);
- 3D start = min(distance to the cleaned object cloud, distance to the GT start) < 0.20 m;
- collision = at any *raw* predicted point, > 20 % of the object's points in the TSDF surface
  voxels of the scene (mask == 255 removed), indices truncated toward zero;
- path metrics after resampling both traces to 100 points (3D, then projected for 2D, /[W, H]);
  pairs with DFD > 100 dropped from the averages;
- **deviation**: a trace that repeats its first point resamples to a NaN start, on which the
  official recursive Fréchet never finishes; here such pairs are left out of the 3D path averages
  (as the official script leaves NaN pairs out of the 2D ones) and the sample says so.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import numpy as np

from robotracer.bench.cloud import object_cloud
from robotracer.bench.tsdf import SurfaceOccupancy, scene_surface_occupancy
from robotracer.trace.geometry import resample_by_arc_length

START_THRESHOLD_M = 0.20
END_THRESHOLD_M = 0.20
COLLISION_RATIO = 0.20
RESAMPLE_POINTS = 100

_TUPLE = re.compile(r"\(([-+]?\d+\.?\d*(?:,\s*[-+]?\d+\.?\d*)*?)\)")
_FENCE = re.compile(r"```(?:\w+)?\n(.*?)```", re.S)


def official_points(text: str, model_kind: str) -> list[tuple[float, ...]]:
    """The points the official parser reads, x and y already / 1000 and rounded to 6 decimals.

    Args:
        model_kind: ``"robotracer"`` (tuples anywhere) or ``"json"`` (Qwen/Gemini: first fenced JSON block).
    """
    if not isinstance(text, str) or not text.strip():
        return []
    rows: list[tuple[float, ...]] = []
    if model_kind == "robotracer":
        for group in _TUPLE.findall(text):
            nums = [float(s.strip()) for s in group.split(",")]
            if len(nums) < 2:
                continue
            x, y = round(nums[0] / 1000.0, 6), round(nums[1] / 1000.0, 6)
            rows.append((x, y, nums[2]) if len(nums) >= 3 else (x, y))
        return rows
    match = _FENCE.search(text)
    if not match:
        return []
    try:
        data = json.loads(match.group(1).strip())
    except ValueError:
        return []
    found: list = []

    def walk(obj):
        if isinstance(obj, list):
            if len(obj) in (2, 3) and all(isinstance(v, (int, float)) for v in obj):
                found.append(obj)
            else:
                for item in obj:
                    walk(item)
        elif isinstance(obj, dict):
            for value in obj.values():
                walk(value)

    walk(data)
    for pt in found:
        x, y = round(pt[0] / 1000.0, 6), round(pt[1] / 1000.0, 6)
        rows.append((x, y, pt[2]) if len(pt) == 3 else (x, y))
    return rows


def intrinsics_f32(matrix) -> tuple[float, float, float, float]:
    """fx, fy, cx, cy as the official ``extract_intrinsics_from_matrix`` returns them (via float32)."""
    m = np.array(matrix, dtype=np.float32)
    return float(m[0, 0]), float(m[1, 1]), float(m[0, 2]), float(m[1, 2])


def project(points: np.ndarray, fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """The official ``project_3d_to_2d`` (Z clamped away from 0), in the points' dtype."""
    X, Y, Z = points[:, 0], points[:, 1], points[:, 2]
    Zs = np.where(np.abs(Z) < 1e-6, 1e-6, Z)
    return np.stack([(X * fx / Zs) + cx, (Y * fy / Zs) + cy], axis=-1)


def box_corners_f32(center, extent, rotation) -> np.ndarray:
    c = np.array(center, dtype=np.float32).reshape(3)
    half = np.array(extent, dtype=np.float32).reshape(3) / 2.0
    R = np.array(rotation, dtype=np.float32).reshape(3, 3)
    signs = np.array([[-1, -1, -1], [1, -1, -1], [-1, 1, -1], [1, 1, -1], [-1, -1, 1], [1, -1, 1], [-1, 1, 1], [1, 1, 1]], dtype=np.float32)
    return (signs * half) @ R.T + c


def point_to_box_distance(point, center, extent, rotation) -> float:
    """The official per-point oriented-box distance (float32 box, inverse rotation via ``inv``)."""
    rel = point - center
    local = np.linalg.inv(rotation) @ rel
    half = 0.5 * np.array(extent)
    if np.all(np.abs(local) <= half):
        return 0.0
    closest = rotation @ np.clip(local, -half, half) + center
    return float(np.linalg.norm(point - closest))


@dataclass
class SampleResult:
    """One benchmark sample's outcome (``evaluated`` False = skipped by the 3D rates)."""

    question_id: object
    category: str = ""
    step: object = None
    evaluated: bool = False
    status: str = "ok"  # ok | no_depth | mixed_dimensions | empty | error
    message: str = ""
    start_in_mask: bool | None = None
    end_in_box_2d: bool | None = None
    start_distance: float | None = None
    end_distance: float | None = None
    start_success: bool = False
    end_success: bool = False
    collision: bool = False
    max_collision_ratio: float | None = None
    success: bool = False
    n_points: int = 0
    pred_3d: np.ndarray | None = field(default=None, repr=False)
    pred_2d: np.ndarray | None = field(default=None, repr=False)
    gt_2d: np.ndarray | None = field(default=None, repr=False)
    resampled_3d: tuple | None = field(default=None, repr=False)  # (pred, gt) (100, 3) float32
    resampled_2d: tuple | None = field(default=None, repr=False)  # normalised (pred, gt) (100, 2) float32


def score_sample_3d(answer: dict, depth_mm: np.ndarray, mask_pil: np.ndarray, mask_gray: np.ndarray, model_kind: str) -> SampleResult:
    """Score one answer of the 3D task exactly as the official ``compute_accuracy_3d`` loop body.

    Args:
        answer: the record (prediction + ground truth: trajectory, bbox_*, gt_depth_intrinsics).
        depth_mm: gt depth PNG as loaded (uint16 millimetres).
        mask_pil: mask as PIL gives it (channel 0 if colour), uint8 — used for 2D and the scene.
        mask_gray: mask as ``cv2.IMREAD_GRAYSCALE`` gives it — used for the object cloud.
    """
    qid = answer.get("question_id", answer.get("id"))
    res = SampleResult(qid, str(answer.get("category", "")), answer.get("step"))
    H, W = depth_mm.shape[:2]
    K = answer.get("gt_depth_intrinsics")
    if not K:
        res.status, res.message = "error", "no gt_depth_intrinsics"
        return res
    fx, fy, cx, cy = intrinsics_f32(K)
    rows = official_points(answer.get("model_prediction", ""), model_kind)
    res.n_points = len(rows)
    dims = {len(r) for r in rows}
    if not rows:
        res.status, res.message = "empty", "no points in the answer"
        return res
    if dims == {2}:
        res.status, res.message = "no_depth", "the answer has (x, y) points only; the 3D task needs (x, y, d)"
        return res
    if dims == {2, 3}:
        res.status = "mixed_dimensions"
        res.message = "the answer mixes (x, y) and (x, y, d) points (the official scorer hangs on this); skipped"
        return res
    # the official tuple parser yields float32, its JSON parser a plain (float64) array
    pred = np.array(rows, dtype=np.float32 if model_kind == "robotracer" else np.float64)
    xs = pred[:, 0] * W
    ys = pred[:, 1] * H
    d = pred[:, 2]
    pred_3d = np.stack([(xs - cx) * d / fx, (ys - cy) * d / fy, d], axis=1)
    gt_3d = np.array(answer["trajectory"], dtype=np.float32)
    res.evaluated = True
    res.pred_3d = pred_3d
    p_i = resample_by_arc_length(pred_3d, RESAMPLE_POINTS)
    g_i = resample_by_arc_length(gt_3d, RESAMPLE_POINTS)
    res.resampled_3d = (p_i, g_i)
    if np.isnan(p_i).any() or np.isnan(g_i).any():
        res.message = ("the trace repeats its first point: its resampled start is NaN (the official scorer's recursive "
                       "Fréchet hangs on it); left out of the path metrics")
    dims_wh = np.array([W, H], dtype=np.float32)
    res.resampled_2d = (project(p_i, fx, fy, cx, cy).astype(np.float32) / dims_wh, project(g_i, fx, fy, cx, cy).astype(np.float32) / dims_wh)
    raw_2d = project(pred_3d, fx, fy, cx, cy).astype(np.float32)
    res.pred_2d = raw_2d
    res.gt_2d = project(gt_3d, fx, fy, cx, cy).astype(np.float32)
    u, v = int(round(float(raw_2d[0, 0]))), int(round(float(raw_2d[0, 1])))
    res.start_in_mask = bool(0 <= v < mask_pil.shape[0] and 0 <= u < mask_pil.shape[1] and mask_pil[v, u] > 0)
    center, extent, rotation = answer.get("bbox_center"), answer.get("bbox_extent"), answer.get("bbox_rotation")
    has_box = center is not None and extent is not None and rotation is not None
    if has_box:
        c2 = project(box_corners_f32(center, extent, rotation), fx, fy, cx, cy)
        u0, v0 = c2.min(axis=0)
        u1, v1 = c2.max(axis=0)
        ends = raw_2d[-3:] if len(raw_2d) >= 3 else raw_2d[-1:]
        res.end_in_box_2d = any(float(u0) <= float(p[0]) <= float(u1) and float(v0) <= float(p[1]) <= float(v1) for p in ends)
    else:
        res.end_in_box_2d = False
    obj = None
    try:
        obj = object_cloud(mask_gray, depth_mm, K)
        if obj is None or len(obj) == 0:
            raise ValueError("Empty object point cloud.")
        pred_start = pred_3d[0]
        d_obj = float(np.min(np.linalg.norm(obj - pred_start, axis=1)))
        d_gt = float(np.linalg.norm(pred_start - gt_3d[0]))
        res.start_distance = float(min(d_obj, d_gt))
    except ValueError as exc:
        res.message = f"start distance failed: {exc}"
    if has_box:
        bc = np.array(center, dtype=np.float32)
        be = np.array(extent, dtype=np.float32)
        br = np.array(rotation, dtype=np.float32).reshape(3, 3)
        cands = [pred_3d[-1], pred_3d[-2], pred_3d[-3]] if len(pred_3d) >= 3 else [pred_3d[-1]]
        res.end_distance = float(min(point_to_box_distance(p, bc, be, br) for p in cands))
    try:
        if obj is None:
            raise ValueError("no object point cloud")
        if mask_pil.shape != depth_mm.shape:
            raise ValueError(f"mask {mask_pil.shape} and depth {depth_mm.shape} sizes differ")
        scene = depth_mm.astype(np.float32)
        scene[mask_pil == 255] = 0
        occ = scene_surface_occupancy(scene, K)
        ratios = collision_ratios(occ, obj, pred_3d)
        res.max_collision_ratio = float(max(ratios))
        res.collision = any(r > COLLISION_RATIO for r in ratios)
    except ValueError as exc:
        res.message = (res.message + "; " if res.message else "") + f"collision check failed: {exc}"
        res.collision = False
    res.start_success = res.start_distance is not None and res.start_distance < START_THRESHOLD_M
    res.end_success = res.end_distance is not None and res.end_distance < END_THRESHOLD_M
    res.success = res.start_success and res.end_success and not res.collision
    return res


def collision_ratios(occ: SurfaceOccupancy, obj: np.ndarray, trace: np.ndarray) -> list[float]:
    """Per raw trace point, the fraction of object points (translated by point − first point) in occupied voxels."""
    shifts = trace - trace[0]
    hits = occ.contains(obj[None, :, :] + shifts[:, None, :])
    return list(hits.sum(axis=1) / max(len(obj), 1))
