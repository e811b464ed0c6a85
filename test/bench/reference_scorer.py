"""A slow, literal reference of the official TraceSpatial-Bench scorer, to check the fast path against.

Written from the official ``summarize_acc.py`` semantics (see the project's scorer notes),
independently of ``robotracer.bench``: one sample at a time, plain Python loops, the same
libraries the official script calls (scipy ``interp1d`` and ``directed_hausdorff``, open3d
point-cloud cleanup and ``VoxelGrid``, a Python ``set`` of occupied voxels). Nothing here is
imported from the fast path.

The scene TSDF: where open3d's ``ScalableTSDFVolume`` works (not 0.20.0) it is used as the
official script uses it. With open3d 0.20.0 the scalable volume is rebuilt from its parts as
the working versions define them: one ``UniformTSDFVolume`` (16³ voxels, its own integration)
per volume unit touched by the stride-4 depth point cloud, and the zero-crossing extraction
rule of ``ScalableTSDFVolume::ExtractPointCloud`` as a plain loop.

The deliberate deviations of the project are applied here too: an answer that mixes (x, y)
and (x, y, d) tuples (the official script hangs on it) is skipped like an answer without depth,
and a 3D pair whose resampled trace has NaN (a repeated first point; the official recursion
never finishes) is left out of the 3D path averages.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import open3d as o3d
from PIL import Image
from scipy.interpolate import interp1d
from scipy.spatial.distance import cdist, directed_hausdorff

N_RESAMPLE = 100
TUPLE_RE = r"\(([-+]?\d+\.?\d*(?:,\s*[-+]?\d+\.?\d*)*?)\)"


# ---------------------------------------------------------------- parsing


def parse_answer(text, kind: str) -> np.ndarray:
    """Official parsers: ``robotracer`` -> float32 rows (NaN depth where a tuple had none); ``json`` -> float64.

    Raises ValueError for a JSON answer mixing 2 and 3 numbers (numpy refuses the ragged list, as officially).
    """
    if kind == "robotracer":
        if not isinstance(text, str) or len(text.strip()) == 0:
            return np.zeros((0, 2), dtype=np.float32)
        pts = []
        for m in re.findall(TUPLE_RE, text):
            nums = [float(s.strip()) for s in m.split(",")]
            if len(nums) < 2:
                continue
            x = round(nums[0] / 1000.0, 6)
            y = round(nums[1] / 1000.0, 6)
            pts.append((x, y) if len(nums) == 2 else (x, y, nums[2]))
        if not pts:
            return np.zeros((0, 2), dtype=np.float32)
        if max(len(p) for p in pts) == 2:
            return np.array(pts, dtype=np.float32)
        out = np.full((len(pts), 3), np.nan, dtype=np.float32)
        for i, p in enumerate(pts):
            out[i, : len(p)] = np.array(p, dtype=np.float32)
        return out
    m = re.search(r"```(?:\w+)?\n(.*?)```", text, re.DOTALL)
    if not m:
        return np.empty((0, 3), dtype=float)
    try:
        data = json.loads(m.group(1).strip())
    except json.JSONDecodeError:
        return np.empty((0, 3), dtype=float)
    found = []

    def visit(o):
        if isinstance(o, list):
            if len(o) in (2, 3) and all(isinstance(v, (int, float)) for v in o):
                found.append(o)
                return
            for item in o:
                visit(item)
        elif isinstance(o, dict):
            for item in o.values():
                visit(item)

    visit(data)
    rows = []
    for p in found:
        x, y = round(p[0] / 1000.0, 6), round(p[1] / 1000.0, 6)
        rows.append([x, y] if len(p) == 2 else [x, y, p[2]])
    return np.array(rows)


# ---------------------------------------------------------------- geometry


def intrinsics_of(K) -> tuple[float, float, float, float]:
    m = np.array(K, dtype=np.float32)
    return float(m[0, 0]), float(m[1, 1]), float(m[0, 2]), float(m[1, 2])


def project(pts, fx, fy, cx, cy) -> np.ndarray:
    z = np.where(np.abs(pts[:, 2]) < 1e-6, 1e-6, pts[:, 2])
    return np.stack([pts[:, 0] * fx / z + cx, pts[:, 1] * fy / z + cy], axis=-1)


def resample(traj, n: int = N_RESAMPLE) -> np.ndarray:
    traj = np.asarray(traj, dtype=np.float32)
    if traj.shape[0] < 2:
        return traj
    cum = np.insert(np.cumsum(np.linalg.norm(np.diff(traj, axis=0), axis=1)), 0, 0.0)
    if float(cum[-1]) <= 1e-12:
        return np.repeat(traj[:1], n, axis=0)
    t = np.linspace(0.0, float(cum[-1]), n, dtype=np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):  # a repeated first point gives 0/0 = NaN, as officially
        return np.stack([interp1d(cum, traj[:, k], kind="linear")(t) for k in range(traj.shape[1])], axis=1)


def box_corners(center, extent, rotation) -> np.ndarray:
    c = np.array(center, dtype=np.float32).reshape(3)
    h = np.array(extent, dtype=np.float32).reshape(3) / 2.0
    R = np.array(rotation, dtype=np.float32).reshape(3, 3)
    corners = [[sx * h[0], sy * h[1], sz * h[2]] for sz in (-1, 1) for sy in (-1, 1) for sx in (-1, 1)]
    return np.array(corners, dtype=np.float32) @ R.T + c


def box_2d(center, extent, rotation, fx, fy, cx, cy) -> tuple[float, float, float, float]:
    uv = project(box_corners(center, extent, rotation), fx, fy, cx, cy)
    return float(uv[:, 0].min()), float(uv[:, 1].min()), float(uv[:, 0].max()), float(uv[:, 1].max())


def in_box_2d(p, box) -> bool:
    return box[0] <= float(p[0]) <= box[2] and box[1] <= float(p[1]) <= box[3]


def in_mask(p, mask) -> bool:
    u, v = int(round(float(p[0]))), int(round(float(p[1])))
    return 0 <= v < mask.shape[0] and 0 <= u < mask.shape[1] and bool(mask[v, u] > 0)


def box_distance(p, c, e, R) -> float:
    local = np.linalg.inv(R) @ (p - c)
    half = 0.5 * np.array(e)
    if np.all(np.abs(local) <= half):
        return 0.0
    return float(np.linalg.norm(p - (R @ np.clip(local, -half, half) + c)))


# ---------------------------------------------------------------- path metrics


def frechet(P, Q) -> float:
    """Discrete Fréchet distance, the official memoised recursion unrolled into row-by-row loops (float32 table)."""
    d = cdist(P, Q, "euclidean").astype(np.float32)
    n, m = d.shape
    ca = np.zeros((n, m), dtype=np.float32)
    for i in range(n):
        for j in range(m):
            if i == 0 and j == 0:
                ca[i, j] = d[0, 0]
            elif i == 0:
                ca[i, j] = max(float(ca[0, j - 1]), float(d[i, j]))
            elif j == 0:
                ca[i, j] = max(float(ca[i - 1, 0]), float(d[i, j]))
            else:
                ca[i, j] = max(min(float(ca[i - 1, j]), float(ca[i - 1, j - 1]), float(ca[i, j - 1])), float(d[i, j]))
    return float(ca[n - 1, m - 1])


def mean_metrics(preds, gts) -> dict:
    dfd, hd, rmse, mae = [], [], [], []
    for p, g in zip(preds, gts):
        p, g = np.asarray(p, dtype=np.float32), np.asarray(g, dtype=np.float32)
        f = frechet(p, g)
        h = float(max(directed_hausdorff(p, g)[0], directed_hausdorff(g, p)[0]))
        diff = p - g
        r = float(np.sqrt(np.mean(np.sum(diff * diff, axis=1))))
        a = float(np.mean(np.mean(np.abs(diff), axis=1)))
        if f > 100:
            continue
        dfd.append(f), hd.append(h), rmse.append(r), mae.append(a)
    if not dfd:
        return {"dfd": 0.0, "hausdorff": 0.0, "rmse": 0.0, "mae": 0.0}
    return {"dfd": float(np.mean(dfd)), "hausdorff": float(np.mean(hd)), "rmse": float(np.mean(rmse)), "mae": float(np.mean(mae))}


# ---------------------------------------------------------------- 3D geometry: object cloud, scene occupancy


def object_points(mask_path, depth_path, K) -> np.ndarray:
    mask = cv2.imread(str(mask_path), cv2.IMREAD_GRAYSCALE)
    depth = cv2.imread(str(depth_path), cv2.IMREAD_UNCHANGED)
    if mask.shape != depth.shape:
        mask = cv2.resize(mask, (depth.shape[1], depth.shape[0]), interpolation=cv2.INTER_NEAREST)
    Km = np.array(K)
    pts = []
    for v in range(depth.shape[0]):
        for u in range(depth.shape[1]):
            z_mm = depth[v, u]
            if mask[v, u] > 0 and z_mm > 0 and z_mm < 15000:
                z = z_mm / 1000.0
                pts.append(((u - Km[0, 2]) * z / Km[0, 0], (v - Km[1, 2]) * z / Km[1, 1], z))
    pcd = o3d.geometry.PointCloud()
    pcd.points = o3d.utility.Vector3dVector(np.array(pts, dtype=np.float64).reshape(-1, 3))
    if not pcd.has_points():
        return np.zeros((0, 3))
    scale = np.linalg.norm(np.asarray(pcd.points).std(axis=0)) * 3.0 + 1e-6
    pcd, _ = pcd.remove_statistical_outlier(nb_neighbors=10, std_ratio=1.2)
    pcd = pcd.voxel_down_sample(voxel_size=max(0.01, scale / 40))
    labels = np.array(pcd.cluster_dbscan(eps=0.02, min_points=10))
    pts = np.asarray(pcd.points)
    counts = Counter(labels.tolist())
    counts.pop(-1, None)
    if counts:
        biggest = pts[labels == counts.most_common(1)[0][0]]
        if len(biggest) >= 5:
            return biggest
    return pts


def _rgbd(depth_mm_f32):
    H, W = depth_mm_f32.shape
    return o3d.geometry.RGBDImage.create_from_color_and_depth(
        o3d.geometry.Image(np.zeros((H, W, 3), np.uint8)), o3d.geometry.Image(depth_mm_f32),
        depth_scale=1000.0, depth_trunc=5.0, convert_rgb_to_intensity=False,
    )


def _scalable_volume_works() -> bool:
    return not o3d.__version__.startswith("0.20")


def surface_points_from_units(rgbd, intr, voxel=0.02, trunc=0.08, res=16) -> np.ndarray:
    """``ScalableTSDFVolume`` integrate + ``ExtractPointCloud`` built from ``UniformTSDFVolume`` units."""
    unit = voxel * res
    depth = np.asarray(rgbd.depth)
    (fx, fy), (cx, cy) = intr.get_focal_length(), intr.get_principal_point()
    touched = set()
    for v in range(0, depth.shape[0], 4):  # depth_sampling_stride 4
        for u in range(0, depth.shape[1], 4):
            z = float(depth[v, u])
            if z <= 0:
                continue
            p = ((u - cx) * z / fx, (v - cy) * z / fy, z)
            lo = [int(np.floor((c - trunc) / unit)) for c in p]
            hi = [int(np.floor((c + trunc) / unit)) for c in p]
            for a in range(lo[0], hi[0] + 1):
                for b in range(lo[1], hi[1] + 1):
                    for c in range(lo[2], hi[2] + 1):
                        touched.add((a, b, c))
    vols = {}
    for key in touched:
        vol = o3d.pipelines.integration.UniformTSDFVolume(
            length=unit, resolution=res, sdf_trunc=trunc,
            color_type=o3d.pipelines.integration.TSDFVolumeColorType.NoColor, origin=np.array(key, dtype=float) * unit,
        )
        vol.integrate(rgbd, intr, np.eye(4))
        tw = np.asarray(vol.extract_volume_tsdf()).reshape(res, res, res, 2).astype(np.float32)
        vols[key] = (tw[..., 0], tw[..., 1])
    lim = np.float32(0.98)
    points = []
    for key, (tsdf, weight) in vols.items():
        good = (weight != 0) & (tsdf < lim) & (tsdf >= -lim)
        for x, y, z in zip(*np.nonzero(good)):
            f0 = tsdf[x, y, z]
            p0 = np.array([voxel * 0.5 + voxel * x, voxel * 0.5 + voxel * y, voxel * 0.5 + voxel * z]) + np.array(key, dtype=float) * unit
            for axis in range(3):
                idx, k1 = [x, y, z], list(key)
                idx[axis] += 1
                if idx[axis] == res:
                    idx[axis] = 0
                    k1[axis] += 1
                    if tuple(k1) not in vols:
                        continue  # no neighbour unit: weight 0
                t1, w1 = vols[tuple(k1)]
                f1, g1 = t1[tuple(idx)], w1[tuple(idx)]
                if g1 != 0 and f1 < lim and f1 >= -lim and f0 * f1 < 0:
                    r0, r1 = np.float32(abs(f0)), np.float32(abs(f1))
                    s = float(r0 + r1)
                    p = p0.copy()  # interpolated along the axis only
                    p[axis] = (p0[axis] * float(r1) + (p0[axis] + voxel) * float(r0)) / s
                    points.append(p)
    return np.array(points).reshape(-1, 3)


def occupancy(depth_f32, mask_u8, K, voxel=0.02):
    """(occupied voxel index set, origin) of the official ``create_occupancy_grid_from_tsdf``; ValueError if empty."""
    scene = np.copy(depth_f32)
    scene[mask_u8 == 255] = 0
    H, W = scene.shape
    Km = np.array(K)
    intr = o3d.camera.PinholeCameraIntrinsic(W, H, Km[0, 0], Km[1, 1], Km[0, 2], Km[1, 2])
    rgbd = _rgbd(scene)
    if _scalable_volume_works():
        vol = o3d.pipelines.integration.ScalableTSDFVolume(
            voxel_length=voxel, sdf_trunc=4 * voxel, color_type=o3d.pipelines.integration.TSDFVolumeColorType.NoColor
        )
        vol.integrate(rgbd, intr, np.eye(4))
        pcd = vol.extract_point_cloud()
    else:
        pcd = o3d.geometry.PointCloud()
        pcd.points = o3d.utility.Vector3dVector(surface_points_from_units(rgbd, intr, voxel, 4 * voxel))
    if not pcd.has_points():
        raise ValueError("TSDF extracted no points")
    grid = o3d.geometry.VoxelGrid.create_from_point_cloud(pcd, voxel_size=voxel)
    return {tuple(int(i) for i in v.grid_index) for v in grid.get_voxels()}, np.asarray(grid.origin)


def collision_ratios(occupied, origin, obj, trace, voxel=0.02) -> list[float]:
    out = []
    for pos in trace:
        idx = ((obj + (pos - trace[0]) - origin) / voxel).astype(int)
        hits = sum(1 for t in map(tuple, idx) if t in occupied)
        out.append(hits / max(len(obj), 1))
    return out


# ---------------------------------------------------------------- the two scoring functions


def _answers(bench_dir: Path, predictions: list[dict]) -> list[dict]:
    records = {r["id"]: r for r in json.loads((bench_dir / "trajectory_dataset.json").read_text())}
    return [{**records[p["question_id"]], **p} for p in predictions]


def score_3d(bench_dir, predictions: list[dict], kind: str, occupancy_cache: dict | None = None) -> dict:
    """The official ``compute_accuracy_3d`` numbers; ``occupancy_cache`` (path -> grid) spares repeated TSDFs."""
    bench_dir = Path(bench_dir)
    cache = {} if occupancy_cache is None else occupancy_cache
    answers = _answers(bench_dir, predictions)
    p3, g3, p2, g2 = [], [], [], []
    starts_in, ends_in, start_d, end_d, coll, s_ok, e_ok = [], [], [], [], [], [], []
    success = 0
    for ans in answers:
        depth_path = bench_dir / "raw_data" / ans["gt_depth_path"]
        mask_path = bench_dir / "raw_data" / ans["mask_path"]
        depth = np.array(Image.open(depth_path))
        H, W = depth.shape[:2]
        fx, fy, cx, cy = intrinsics_of(ans["gt_depth_intrinsics"])
        try:
            pred = parse_answer(ans.get("model_prediction", ""), kind)
        except ValueError:
            continue
        if pred.ndim != 2 or pred.shape[1] < 3 or np.isnan(pred[:, 2]).any():
            continue
        pred_3d = np.array([((x * W - cx) * d / fx, (y * H - cy) * d / fy, d) for x, y, d in pred[:, :3]])
        gt_3d = np.array(ans["trajectory"], dtype=np.float32)
        pi, gi = resample(pred_3d), resample(gt_3d)
        p3.append(pi), g3.append(gi)
        p2.append(project(pi, fx, fy, cx, cy).astype(np.float32) / np.array([W, H], np.float32))
        g2.append(project(gi, fx, fy, cx, cy).astype(np.float32) / np.array([W, H], np.float32))
        mask = np.array(Image.open(mask_path))
        mask = (mask[:, :, 0] if mask.ndim == 3 else mask).astype(np.uint8)
        raw_2d = project(pred_3d, fx, fy, cx, cy).astype(np.float32)
        starts_in.append(in_mask(raw_2d[0], mask))
        bc, be, br = ans.get("bbox_center"), ans.get("bbox_extent"), ans.get("bbox_rotation")
        has_box = bc is not None and be is not None and br is not None
        ends = raw_2d[-3:] if len(raw_2d) >= 3 else raw_2d[-1:]
        ends_in.append(has_box and any(in_box_2d(p, box_2d(bc, be, br, fx, fy, cx, cy)) for p in ends))
        sd = ed = None
        obj = object_points(mask_path, depth_path, ans["gt_depth_intrinsics"])
        if len(obj):
            sd = min(float(np.min(np.linalg.norm(obj - pred_3d[0], axis=1))), float(np.linalg.norm(pred_3d[0] - gt_3d[0])))
            start_d.append(sd)
        if has_box:
            c, e = np.array(bc, np.float32), np.array(be, np.float32)
            R = np.array(br, np.float32).reshape(3, 3)
            cands = [pred_3d[-1], pred_3d[-2], pred_3d[-3]] if len(pred_3d) >= 3 else [pred_3d[-1]]
            ed = min(box_distance(p, c, e, R) for p in cands)
            end_d.append(ed)
        hit = False
        try:
            key = str(depth_path)
            if key not in cache:
                m8 = np.array(Image.open(mask_path)).astype(np.uint8)
                m8 = m8[:, :, 0] if m8.ndim == 3 else m8
                cache[key] = occupancy(np.array(Image.open(depth_path)).astype(np.float32), m8, ans["gt_depth_intrinsics"])
            occupied, origin = cache[key]
            hit = any(r > 0.20 for r in collision_ratios(occupied, origin, obj, pred_3d))
        except (ValueError, IndexError):
            hit = False
        coll.append(hit)
        s, e = sd is not None and sd < 0.20, ed is not None and ed < 0.20
        s_ok.append(s), e_ok.append(e)
        success += s and e and not hit
    ok2 = [(p, g) for p, g in zip(p2, g2) if not (np.isnan(p).any() or np.isnan(g).any())]
    # the project's deviation: NaN pairs (a repeated first point) would hang the official recursion
    ok3 = [(p, g) for p, g in zip(p3, g3) if not (np.isnan(p).any() or np.isnan(g).any())]
    rate = lambda flags: float(np.mean(flags)) if flags else None  # noqa: E731
    return {
        "answers": len(answers),
        "evaluated": len(p3),
        "start_in_mask_2d": rate(starts_in),
        "end_in_box_2d": rate(ends_in),
        "start_success_3d": rate(s_ok),
        "end_success_3d": rate(e_ok),
        "no_collision": 1.0 - float(np.mean(coll)) if coll else None,
        "overall_success": success / max(len(answers), 1),
        "start_distance_mean_m": float(np.mean(start_d)) if start_d else None,
        "end_distance_mean_m": float(np.mean(end_d)) if end_d else None,
        "path_3d": mean_metrics(*zip(*ok3)) if ok3 else mean_metrics([], []),
        "path_2d": mean_metrics([p for p, _ in ok2], [g for _, g in ok2]),
    }


def score_2d(bench_dir, predictions: list[dict], kind: str) -> dict:
    """The official ``compute_accuracy_2d`` numbers (project first, resample in pixels, all answers counted)."""
    bench_dir = Path(bench_dir)
    answers = _answers(bench_dir, predictions)
    preds, gts, starts_in, ends_in = [], [], [], []
    for ans in answers:
        img = np.array(Image.open(bench_dir / "raw_data" / ans["image_path"]).convert("RGB"))
        H, W = img.shape[:2]
        dims = np.array([W, H], dtype=np.float32)
        fx, fy, cx, cy = intrinsics_of(ans["gt_depth_intrinsics"])
        parsed = parse_answer(ans.get("model_prediction", ""), kind)
        xy = parsed[:, :2] if parsed.ndim == 2 and parsed.shape[1] >= 2 else np.zeros((0, 2), np.float32)
        pix = xy * dims
        gt_uv = project(np.array(ans["trajectory"], dtype=np.float32), fx, fy, cx, cy).astype(np.float32)
        if len(pix) < 2:
            pix = np.repeat(pix[:1], 2, axis=0) if len(pix) == 1 else np.zeros((2, 2), np.float32)
        preds.append(resample(pix) / dims)
        gts.append(resample(gt_uv) / dims)
        mask = np.array(Image.open(bench_dir / "raw_data" / ans["mask_path"]))
        mask = (mask[:, :, 0] if mask.ndim == 3 else mask).astype(np.uint8)
        starts_in.append(in_mask(pix[0], mask))
        bc, be, br = ans.get("bbox_center"), ans.get("bbox_extent"), ans.get("bbox_rotation")
        ends = pix[-3:] if len(pix) >= 3 else pix[-1:]
        ends_in.append(bc is not None and be is not None and br is not None
                       and any(in_box_2d(p, box_2d(bc, be, br, fx, fy, cx, cy)) for p in ends))
    ok = [(p, g) for p, g in zip(preds, gts) if not (np.isnan(p).any() or np.isnan(g).any())]
    return {
        "answers": len(answers),
        "start_in_mask_2d": float(np.mean(starts_in)) if starts_in else None,
        "end_in_box_2d": float(np.mean(ends_in)) if ends_in else None,
        "path_2d": mean_metrics([p for p, _ in ok], [g for _, g in ok]),
    }
