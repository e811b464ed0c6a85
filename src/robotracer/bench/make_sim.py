"""A TraceSpatial-Bench-style benchmark rendered from the MuJoCo tabletop (official scripts' layout).

Every sample is one tabletop layout (``TabletopSim.reset(seed)``) seen from one of a few
slightly perturbed camera poses, and one placing instruction. The ground-truth trace is built
from the simulator's ground-truth poses, *not* from any tracer:

- the moved object's top centre where it stands (``object_top_center``);
- straight up until its bottom clears the tallest other object by ``clearance_m``;
- carried level to above the destination, lowered until it rests there;
- ``num_points`` points spread evenly along that path by arc length.

Destinations ("as seen from the camera": *left / right* along the camera's x axis projected on
the table, *behind* away from the camera, *in front of* toward it): the reference's centre
plus the given distance, else reference radius + moved radius + ``gap_m``; *between*: the
midpoint of the two references; *on the plate*: the plate's centre, resting on its top.
Layouts where the destination overlaps another object, leaves the usable table or the trace
leaves the image are skipped and counted.

``step`` counts the instruction's constraints: one per reference object plus one for an
explicit distance (1 or 2 by default; with ``max_steps=3`` also "move the cup 15 centimeters
behind the point between the bowl and the apple": the midpoint of two references moved by a
distance, 3 steps).

Files written (what :func:`robotracer.bench.dataset.load_benchmark` reads):
``DIR/trajectory_dataset.json`` and ``DIR/raw_data/{id}/image.png`` (RGB), ``gt_depth.png``
(uint16 millimetres), ``mask.png`` (255 on the moved object). Records carry ``trajectory``
(``(N, 3)`` camera optical frame metres), ``gt_depth_intrinsics`` (3x3), ``bbox_center``,
``bbox_extent``, ``bbox_rotation`` (the destination's oriented box in the camera frame),
``prompt``, ``target_object``, ``destination|direction``, ``category``, ``step``,
``data_source`` = ``"mujoco_tabletop"`` and ``layout_seed``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from robotracer.geometry.transforms import RigidTransform
from robotracer.trace.geometry import resample_by_arc_length

OBJECTS = (("cup", "cup"), ("plate", "plate"), ("bowl", "bowl"), ("apple", "apple"), ("block", "block"))
MOVABLE = ("cup", "apple", "block")
# usable table area for destinations (base_link x, y), inside the camera's view
_X_RANGE, _Y_RANGE = (0.28, 0.85), (-0.42, 0.42)


@dataclass(frozen=True)
class SimBenchConfig:
    """Settings of :func:`make_sim_benchmark`.

    Attributes:
        samples: number of samples to write.
        seed: master seed; the same seed gives the same files.
        cameras: number of camera poses (each costs one simulator build, ~1-2 s).
        camera_xyz_jitter_m: uniform camera position perturbation, metres (each axis).
        camera_rpy_jitter_rad: uniform camera orientation perturbation, radians (each angle).
        clearance_m: gap between the carried object's bottom and the tallest other object.
        gap_m: gap between the placed object and its reference when no distance is given.
        separation_m: minimal gap between the placed object and any other object.
        num_points: ground-truth trace length.
        max_attempts: layouts tried per sample before giving up.
        max_steps: 2 (default: the original task mix, files unchanged) or 3 (adds the
            distance-from-a-midpoint task, 3 reasoning steps).
    """

    samples: int = 100
    seed: int = 0
    cameras: int = 4
    camera_xyz_jitter_m: float = 0.04
    camera_rpy_jitter_rad: float = 0.04
    clearance_m: float = 0.05
    gap_m: float = 0.05
    separation_m: float = 0.01
    num_points: int = 8
    max_attempts: int = 20
    max_steps: int = 2

    def __post_init__(self):
        if self.max_steps not in (2, 3):
            raise ValueError(f"max_steps must be 2 or 3, got {self.max_steps}")


@dataclass
class SimBenchStats:
    """What :func:`make_sim_benchmark` did: written samples, skipped layouts by reason, seconds."""

    written: int = 0
    refused: int = 0
    skipped: dict = field(default_factory=dict)
    seconds: float = 0.0

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


@dataclass(frozen=True)
class _Task:
    prompt: str
    moved: str
    references: tuple[str, ...]
    relation: str
    distance_m: float | None

    @property
    def step(self) -> int:
        return len(self.references) + (self.distance_m is not None)


_PHRASES = {"left_of": "to the left of", "right_of": "to the right of", "in_front_of": "in front of", "behind": "behind"}


def _sample_task(rng: np.random.Generator, max_steps: int = 2) -> _Task:
    moved = MOVABLE[rng.integers(len(MOVABLE))]
    others = [n for n, _ in OBJECTS if n != moved]
    if max_steps >= 3:
        kinds = ["left_of", "right_of", "in_front_of", "behind", "distance", "between", "on", "distance_between"]
        kind = rng.choice(kinds, p=[0.13, 0.13, 0.1, 0.1, 0.17, 0.1, 0.1, 0.17])
    else:
        kind = rng.choice(["left_of", "right_of", "in_front_of", "behind", "distance", "between", "on"], p=[0.17, 0.17, 0.13, 0.13, 0.2, 0.1, 0.1])
    if kind == "distance_between":
        a, b = (str(o) for o in rng.choice(others, size=2, replace=False))
        rel = str(rng.choice(["left_of", "right_of", "in_front_of", "behind"]))
        cm = int(rng.choice([10, 15, 20]))
        return _Task(f"move the {moved} {cm} centimeters {_PHRASES[rel]} the point between the {a} and the {b}", moved, (a, b), rel, cm / 100.0)
    if kind == "on":
        return _Task(f"put the {moved} on the plate", moved, ("plate",), "on", None)
    if kind == "between":
        a, b = rng.choice(others, size=2, replace=False)
        return _Task(f"put the {moved} between the {a} and the {b}", moved, (str(a), str(b)), "between", None)
    ref = str(rng.choice(others))
    if kind == "distance":
        rel = str(rng.choice(["left_of", "right_of", "in_front_of", "behind"]))
        cm = int(rng.choice([15, 20, 25]))
        phrase = {"left_of": "to the left of", "right_of": "to the right of", "in_front_of": "in front of", "behind": "behind"}[rel]
        return _Task(f"move the {moved} {cm} centimeters {phrase} the {ref}", moved, (ref,), rel, cm / 100.0)
    phrase = {"left_of": "left of", "right_of": "right of", "in_front_of": "in front of", "behind": "behind"}[kind]
    return _Task(f"put the {moved} {phrase} the {ref}", moved, (ref,), str(kind), None)


def _camera_axes(T_base_camera: RigidTransform) -> tuple[np.ndarray, np.ndarray]:
    """Unit (right, away) directions on the table (base xy) as seen from the camera."""
    out = []
    for col in (0, 2):
        v = T_base_camera.rotation[:2, col].copy()
        out.append(v / np.linalg.norm(v))
    return out[0], out[1]


def ground_truth_trace(sim, task: _Task, cfg: SimBenchConfig) -> tuple[np.ndarray, dict] | str:
    """``((N, 3) float64 base-frame top-centre path, destination box in base)`` or the skip reason."""
    from robotracer.sim.objects import object_kind

    kinds = sim.object_kinds
    poses = sim.object_poses()
    xy = {n: poses[n][0][:2] for n in poses}
    radius = {n: object_kind(kinds[n]).radius for n in kinds}
    height = {n: object_kind(kinds[n]).height for n in kinds}
    m = task.moved
    right, away = _camera_axes(sim.T_base_camera)
    rest_bottom = 0.0
    if len(task.references) == 2 and task.relation != "between":  # a distance from the midpoint
        a, b = task.references
        direction = {"left_of": -right, "right_of": right, "in_front_of": -away, "behind": away}[task.relation]
        dest = (xy[a] + xy[b]) / 2 + task.distance_m * direction
    elif task.relation == "between":
        a, b = task.references
        dest = (xy[a] + xy[b]) / 2
    elif task.relation == "on":
        dest = xy["plate"].copy()
        rest_bottom = height["plate"]
    else:
        ref = task.references[0]
        direction = {"left_of": -right, "right_of": right, "in_front_of": -away, "behind": away}[task.relation]
        dist = task.distance_m if task.distance_m is not None else radius[ref] + radius[m] + cfg.gap_m
        dest = xy[ref] + dist * direction
    if not (_X_RANGE[0] + radius[m] <= dest[0] <= _X_RANGE[1] - radius[m] and _Y_RANGE[0] + radius[m] <= dest[1] <= _Y_RANGE[1] - radius[m]):
        return "destination_off_table"
    for o in xy:
        if o == m or (task.relation == "on" and o == "plate"):
            continue
        if np.linalg.norm(dest - xy[o]) < radius[o] + radius[m] + cfg.separation_m:
            return "destination_occupied"
    start = sim.object_top_center(m)
    if not sim.is_upright(m):
        return "object_not_upright"
    tallest = max(height[o] for o in xy if o != m)
    carry = max(tallest, rest_bottom) + cfg.clearance_m + height[m]
    end_z = rest_bottom + height[m]
    corners = np.array([start, [start[0], start[1], carry], [dest[0], dest[1], carry], [dest[0], dest[1], end_z]])
    points = resample_by_arc_length(corners, cfg.num_points, dtype=np.float64)
    box = {
        "center": np.array([dest[0], dest[1], rest_bottom + height[m] / 2]),
        "extent": np.array([2 * radius[m] + 0.04, 2 * radius[m] + 0.04, height[m] + 0.04]),
    }
    return points, box


def _camera_configs(cfg: SimBenchConfig):
    from robotracer.sim.tabletop import DEFAULT_CAMERA_RPY, DEFAULT_CAMERA_XYZ, TabletopConfig

    rng = np.random.default_rng([cfg.seed, 1])
    out = []
    for i in range(cfg.cameras):
        dx = np.zeros(3) if i == 0 else rng.uniform(-cfg.camera_xyz_jitter_m, cfg.camera_xyz_jitter_m, 3)
        dr = np.zeros(3) if i == 0 else rng.uniform(-cfg.camera_rpy_jitter_rad, cfg.camera_rpy_jitter_rad, 3)
        out.append(TabletopConfig(
            objects=OBJECTS,
            camera_xyz=tuple(float(v) for v in np.add(DEFAULT_CAMERA_XYZ, dx)),
            camera_rpy=tuple(float(v) for v in np.add(DEFAULT_CAMERA_RPY, dr)),
        ))
    return out


def make_sim_benchmark(
    out_dir: str | Path, cfg: SimBenchConfig = SimBenchConfig(), progress: bool = True, predict_tracer: str | None = None
) -> SimBenchStats:
    """Render ``cfg.samples`` samples into ``out_dir`` (official layout); deterministic per ``cfg.seed``.

    ``predict_tracer``: also run that tracer backend (e.g. ``"geometric"``) on each rendered frame
    (RGB, metre depth, the simulator's ground-truth segmentation) with the sample's prompt and write
    ``out_dir/predictions_<name>.jsonl`` (question_id, model_prediction); refusals are written as
    empty answers, so they count as failures in the overall success, and are counted in
    ``stats.refused``.

    Raises:
        RuntimeError: fewer than ``cfg.samples`` valid samples after ``cfg.max_attempts`` layouts each.
    """
    import time

    from tqdm import tqdm

    from robotracer.sim.tabletop import TabletopSim

    t0 = time.perf_counter()
    root = Path(out_dir)
    (root / "raw_data").mkdir(parents=True, exist_ok=True)
    stats = SimBenchStats()
    sims = [TabletopSim(c) for c in _camera_configs(cfg)]
    tracer = None
    if predict_tracer is not None:
        from robotracer.tracers import make_tracer

        tracer = make_tracer(predict_tracer)
    records, predictions = [], []
    try:
        for qid in tqdm(range(cfg.samples), desc="make-sim", disable=not progress):
            sim = sims[qid % len(sims)]
            for attempt in range(cfg.max_attempts):
                rng = np.random.default_rng([cfg.seed, 2, qid, attempt])
                layout_seed = int(rng.integers(2**31))
                task = _sample_task(rng, cfg.max_steps)
                sim.reset(layout_seed)
                gt = ground_truth_trace(sim, task, cfg)
                if isinstance(gt, str):
                    stats.skip(gt)
                    continue
                written = _write_sample(root, qid, sim, task, gt, layout_seed)
                if isinstance(written, str):
                    stats.skip(written)
                    continue
                rec, frame = written
                records.append(rec)
                if tracer is not None:
                    answer = _predict(tracer, sim, frame, rec["prompt"], stats)
                    predictions.append({"question_id": qid, "model_prediction": answer})
                break
            else:
                raise RuntimeError(f"no valid layout for sample {qid} in {cfg.max_attempts} attempts; raise max_attempts")
    finally:
        for s in sims:
            s.close()
    (root / "trajectory_dataset.json").write_text(json.dumps(records, indent=1))
    if tracer is not None:
        (root / f"predictions_{predict_tracer}.jsonl").write_text("".join(json.dumps(p) + "\n" for p in predictions))
    stats.written = len(records)
    stats.seconds = time.perf_counter() - t0
    return stats


def _write_sample(root: Path, qid: int, sim, task: _Task, gt, layout_seed: int):
    """``(record, CameraFrame)`` of the written sample, or the reason it was skipped."""
    points_base, box = gt
    T_cam_base = sim.T_base_camera.inverse()
    K = sim.intrinsics
    pts = T_cam_base.apply(points_base)
    uv, z = K.project(pts)
    if np.any(z <= 0) or np.any((uv < 0) | (uv > [K.width - 1, K.height - 1])):
        return "trace_outside_image"
    frame = sim.render()
    label = {v: k for k, v in frame.labels.items()}[task.moved]
    mask = frame.segmentation == label
    if mask.sum() < 20:
        return "object_hidden"
    d = root / "raw_data" / str(qid)
    d.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(d / "image.png"), cv2.cvtColor(frame.rgb, cv2.COLOR_RGB2BGR))
    depth_mm = np.clip(np.round(np.nan_to_num(frame.depth) * 1000.0), 0, 65535).astype(np.uint16)
    cv2.imwrite(str(d / "gt_depth.png"), depth_mm)
    cv2.imwrite(str(d / "mask.png"), np.where(mask, 255, 0).astype(np.uint8))
    category = {"on": "place_on", "between": "place_between"}.get(task.relation, "place_relative")
    if len(task.references) == 2 and task.relation != "between":
        category = "place_relative_between"
    return {
        "id": qid,
        "prompt": task.prompt,
        "target_object": task.moved,
        "destination|direction": " and ".join(task.references) + f" ({task.relation})",
        "step": task.step,
        "category": category,
        "data_source": "mujoco_tabletop",
        "layout_seed": layout_seed,
        "image_path": f"{qid}/image.png",
        "gt_depth_path": f"{qid}/gt_depth.png",
        "mask_path": f"{qid}/mask.png",
        "gt_depth_intrinsics": K.matrix.tolist(),
        "intrinsics": K.matrix.tolist(),
        "trajectory": np.round(pts, 6).tolist(),
        "bbox_center": np.round(T_cam_base.apply(box["center"][None])[0], 6).tolist(),
        "bbox_extent": box["extent"].tolist(),
        "bbox_rotation": np.round(T_cam_base.rotation, 9).tolist(),
    }, frame


def _predict(tracer, sim, frame, prompt: str, stats: SimBenchStats) -> str:
    from robotracer.tracers import Observation, TracerError

    obs = Observation(frame.rgb, frame.depth, sim.intrinsics, frame.segmentation, frame.labels, label_source="sim_ground_truth")
    try:
        return tracer.infer(obs, prompt).text
    except TracerError:
        stats.refused += 1
        return ""
