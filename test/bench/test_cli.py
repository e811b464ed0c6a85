"""End to end: a small benchmark in the official layout, scored through the CLI."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from robotracer.validation.synthetic import render_depth, tabletop

pytest.importorskip("open3d")


@pytest.fixture()
def bench_dir(tmp_path):
    boxes, K, T = tabletop()
    depth, label = render_depth(boxes, K, T)
    cup, plate = boxes[1], boxes[3]
    Tinv = T.inverse()
    gt_base = np.array([cup.top_centre, cup.top_centre + [0, 0, 0.25], plate.top_centre + [0, 0, 0.25], plate.top_centre + [0, 0, 0.1]])
    gt_cam = Tinv.apply(gt_base)
    box_c = Tinv.apply(plate.top_centre[None] + [0, 0, 0.05])[0]
    records = []
    for qid in range(3):
        d = tmp_path / "raw_data" / str(qid)
        d.mkdir(parents=True)
        cv2.imwrite(str(d / "image.png"), np.full((K.height, K.width, 3), 128, np.uint8))
        cv2.imwrite(str(d / "gt_depth.png"), (depth * 1000).astype(np.uint16))
        cv2.imwrite(str(d / "mask.png"), np.where(label == 1, 255, 0).astype(np.uint8))
        records.append({
            "id": qid, "image_path": f"{qid}/image.png", "gt_depth_path": f"{qid}/gt_depth.png", "mask_path": f"{qid}/mask.png",
            "gt_depth_intrinsics": K.matrix.tolist(), "trajectory": gt_cam.tolist(), "category": "place", "step": 2,
            "bbox_center": box_c.tolist(), "bbox_extent": [0.14, 0.14, 0.1], "bbox_rotation": Tinv.rotation.tolist(),
        })
    (tmp_path / "trajectory_dataset.json").write_text(json.dumps(records))
    uv, z = K.project(gt_cam)
    good = "[" + ", ".join(f"({u / K.width * 1000:.0f}, {v / K.height * 1000:.0f}, {d:.3f})" for (u, v), d in zip(uv, z)) + "]"
    preds = [
        {"question_id": 0, "model_prediction": good},
        {"question_id": 1, "model_prediction": "[(500, 500), (600, 600)]"},
        {"question_id": 2, "model_prediction": "[(500, 500, 1.0), (600, 600)]"},
    ]
    (tmp_path / "RoboTracer_3D.jsonl").write_text("\n".join(json.dumps(p) for p in preds))
    return tmp_path


def test_cli_scores_and_writes_every_output(bench_dir, capsys):
    from robotracer.cli.main import main

    out = bench_dir / "out"
    rc = main(["bench", "tracespatial", "--data", str(bench_dir), "--predictions", str(bench_dir / "RoboTracer_3D.jsonl"), "--out", str(out), "--quiet"])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    o = res["summary"]["overall"]
    assert o["answers"] == 3 and o["evaluated"] == 1
    assert o["start_success_3d"] == 1.0 and o["end_success_3d"] == 1.0 and o["no_collision"] == 1.0
    assert o["overall_success"] == pytest.approx(1 / 3)  # all answers in the denominator
    status = {s["question_id"]: s["status"] for s in res["samples"]}
    assert status == {0: "ok", 1: "no_depth", 2: "mixed_dimensions"}
    assert o["skipped"]["mixed_dimensions"] == 1
    assert (out / "report.md").read_text().count("mixed_dimensions") >= 1
    assert (out / "metrics.png").stat().st_size > 1000
    assert (out / "samples" / "0.png").is_file()


def test_cli_2d_mode_counts_every_answer(bench_dir):
    from robotracer.cli.main import main

    out = bench_dir / "out2d"
    rc = main(["bench", "tracespatial", "--mode", "2d", "--data", str(bench_dir), "--predictions",
               str(bench_dir / "RoboTracer_3D.jsonl"), "--out", str(out), "--quiet", "--no-images"])
    assert rc == 0
    res = json.loads((out / "results.json").read_text())
    o = res["summary"]["overall"]
    # 2D scores the (x, y) of every answer: the 2-number and the mixed answers are not skipped
    assert o["answers"] == 3 and o["evaluated"] == 3 and o["skipped"]["empty"] == 0
    flags = {s["question_id"]: (s["start_in_mask"], s["end_in_box_2d"]) for s in res["samples"]}
    assert flags[0] == (True, True)  # the ground truth's own projection
    assert o["start_in_mask_2d"] == pytest.approx(sum(f[0] for f in flags.values()) / 3)
    assert o["overall_success"] is None and o["path_2d"]["dfd"] > 0
    assert "2D task" in (out / "report.md").read_text()
    assert (out / "metrics.png").stat().st_size > 1000
