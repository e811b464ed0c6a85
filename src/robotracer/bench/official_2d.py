"""The official TraceSpatial-Bench 2D scoring (``compute_accuracy_2d``), reproduced exactly.

Semantics (see the project's notes on the official ``summarize_acc.py``):

- W, H from the RGB image; x, y of every parsed point (2 or 3 numbers) / 1000 · [W, H];
- an answer with fewer than two points becomes two points: the single point twice, or pixel
  (0, 0) twice for an empty answer — every answer counts in every rate (denominator: all answers);
- start-in-mask = the first point, Python ``round``, mask > 0; end-in-box = any of the last three
  points (only the last if fewer) in the destination box projected to the image;
- path metrics: the prediction and the projected ground truth resampled to 100 points *in pixels*,
  then divided by [W, H]; pairs with NaN are left out, pairs with DFD > 100 dropped.
- **deviation**: a JSON answer mixing 2- and 3-number points stops the official script (numpy
  refuses the ragged list); here its x, y are used like a tuple answer's.
"""

from __future__ import annotations

import numpy as np

from robotracer.bench.official import RESAMPLE_POINTS, SampleResult, box_corners_f32, intrinsics_f32, official_points, project
from robotracer.trace.geometry import resample_by_arc_length


def score_sample_2d(answer: dict, width: int, height: int, mask_pil: np.ndarray, model_kind: str) -> SampleResult:
    """Score one answer of the 2D task exactly as the official ``compute_accuracy_2d`` loop body.

    Args:
        answer: the record (prediction + ground truth: trajectory, bbox_*, gt_depth_intrinsics).
        width, height: the RGB image's size.
        mask_pil: mask as PIL gives it (channel 0 if colour), uint8.
        model_kind: ``"robotracer"`` (tuples) or ``"json"`` (fenced JSON).
    """
    qid = answer.get("question_id", answer.get("id"))
    res = SampleResult(qid, str(answer.get("category", "")), answer.get("step"), evaluated=True)
    K = answer.get("gt_depth_intrinsics")
    if not K:
        res.evaluated, res.status, res.message = False, "error", "no gt_depth_intrinsics"
        return res
    fx, fy, cx, cy = intrinsics_f32(K)
    dims = np.array([width, height], dtype=np.float32)
    rows = official_points(answer.get("model_prediction", ""), model_kind)
    res.n_points = len(rows)
    # the tuple parser yields float32, the JSON parser a float64 array (kept: it decides the rounding)
    xy = np.array([r[:2] for r in rows], dtype=np.float32 if model_kind == "robotracer" else np.float64).reshape(-1, 2)
    pix = xy * dims
    if len(pix) < 2:
        if len(pix) == 0:
            res.status, res.message = "empty", "no points in the answer; scored as two points at pixel (0, 0)"
            pix = np.zeros((2, 2), dtype=np.float32)
        else:
            pix = np.repeat(pix[:1], 2, axis=0)
    gt_uv = project(np.array(answer["trajectory"], dtype=np.float32), fx, fy, cx, cy).astype(np.float32)
    res.pred_2d, res.gt_2d = pix, gt_uv
    res.resampled_2d = (resample_by_arc_length(pix, RESAMPLE_POINTS) / dims, resample_by_arc_length(gt_uv, RESAMPLE_POINTS) / dims)
    u, v = int(round(float(pix[0, 0]))), int(round(float(pix[0, 1])))
    res.start_in_mask = bool(0 <= v < mask_pil.shape[0] and 0 <= u < mask_pil.shape[1] and mask_pil[v, u] > 0)
    center, extent, rotation = answer.get("bbox_center"), answer.get("bbox_extent"), answer.get("bbox_rotation")
    if center is None or extent is None or rotation is None:
        res.end_in_box_2d = False
    else:
        c2 = project(box_corners_f32(center, extent, rotation), fx, fy, cx, cy)
        u0, v0 = (float(a) for a in c2.min(axis=0))
        u1, v1 = (float(a) for a in c2.max(axis=0))
        ends = pix[-3:] if len(pix) >= 3 else pix[-1:]
        res.end_in_box_2d = any(u0 <= float(p[0]) <= u1 and v0 <= float(p[1]) <= v1 for p in ends)
    return res
