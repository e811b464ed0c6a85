"""TraceSpatial-Bench on disk: the official scripts' layout and a Hugging Face export.

- official: ``DIR/trajectory_dataset.json`` (list of records) and ``DIR/raw_data/{id}/image.png``,
  ``gt_depth.png`` (uint16 mm), ``mask.png``; records name their files (``image_path``,
  ``gt_depth_path``, ``mask_path``, relative to ``raw_data``).
- huggingface: ``DIR/*.jsonl`` or ``DIR/*.json`` records with the dataset's fields (id, prompt,
  target_object, destination_direction, step, category, data_source, trajectory, image, depth,
  gt_depth, mask, intrinsics, gt_depth_intrinsics, bbox_center, bbox_extent, bbox_rotation),
  the image fields being paths relative to DIR.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class BenchSample:
    """One benchmark record and where its images are."""

    record: dict
    image_path: Path
    gt_depth_path: Path
    mask_path: Path

    @property
    def question_id(self):
        return self.record.get("question_id", self.record.get("id"))


def load_benchmark(data_dir: str | Path) -> dict:
    """``{question_id: BenchSample}`` from either layout; raises FileNotFoundError naming what is expected."""
    root = Path(data_dir)
    official = root / "trajectory_dataset.json"
    if official.is_file():
        records = json.loads(official.read_text())
        out = {}
        for rec in records:
            qid = rec.get("id", rec.get("question_id"))
            base = root / "raw_data"
            out[qid] = BenchSample(
                rec,
                base / rec.get("image_path", f"{qid}/image.png"),
                base / rec.get("gt_depth_path", f"{qid}/gt_depth.png"),
                base / rec.get("mask_path", f"{qid}/mask.png"),
            )
        return out
    files = sorted(root.glob("*.jsonl")) + sorted(root.glob("*.json"))
    if not files:
        raise FileNotFoundError(
            f"{root} is not a TraceSpatial-Bench folder: expected trajectory_dataset.json + raw_data/ "
            "(official scripts' layout) or *.jsonl/*.json records (Hugging Face export)"
        )
    out = {}
    for f in files:
        text = f.read_text()
        recs = json.loads(text) if f.suffix == ".json" else [json.loads(l) for l in text.splitlines() if l.strip()]
        for rec in recs if isinstance(recs, list) else [recs]:
            rec = dict(rec)
            if "destination_direction" in rec and "destination|direction" not in rec:
                rec["destination|direction"] = rec["destination_direction"]
            qid = rec.get("id", rec.get("question_id"))
            out[qid] = BenchSample(rec, root / str(rec["image"]), root / str(rec["gt_depth"]), root / str(rec["mask"]))
    return out


def load_predictions(path: str | Path) -> list[dict]:
    """JSONL records with ``question_id`` and ``model_prediction``."""
    rows = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"{path}:{n} is not JSON: {exc}") from exc
        if "question_id" not in row or "model_prediction" not in row:
            raise ValueError(f"{path}:{n} needs 'question_id' and 'model_prediction'; has {sorted(row)}")
        rows.append(row)
    return rows


def load_images(sample: BenchSample) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(depth uint16 mm as PIL reads it, mask as PIL reads it (channel 0), mask as cv2 grayscale)."""
    with Image.open(sample.gt_depth_path) as im:
        depth = np.array(im)
    with Image.open(sample.mask_path) as im:
        mode = im.mode
        mask_pil = np.array(im)
    if mask_pil.ndim == 3:
        mask_pil = mask_pil[:, :, 0]
    mask_pil = mask_pil.astype(np.uint8)
    if mode == "L":
        mask_gray = mask_pil
    else:
        mask_gray = cv2.imread(str(sample.mask_path), cv2.IMREAD_GRAYSCALE)
    return depth, mask_pil, mask_gray


def load_mask(path) -> np.ndarray:
    """The mask as the official scorer reads it with PIL: channel 0 if colour, uint8."""
    with Image.open(path) as im:
        mask = np.array(im)
    return (mask[:, :, 0] if mask.ndim == 3 else mask).astype(np.uint8)


def load_image_size(path) -> tuple[int, int]:
    """``(width, height)`` of the RGB image (header only)."""
    with Image.open(path) as im:
        return im.size
