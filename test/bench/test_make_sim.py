"""``robotracer bench make-sim``: the written benchmark is read by the evaluator and deterministic per seed."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

pytest.importorskip("robotracer.sim.tabletop")  # sets MUJOCO_GL before mujoco loads
pytest.importorskip("open3d")


def _digest(root) -> dict:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "eval" not in p.parts}


@pytest.mark.slow
def test_make_sim_is_scored_and_deterministic(tmp_path, capsys):
    from robotracer.bench.dataset import load_benchmark, load_images
    from robotracer.cli.main import main

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    common = ["--samples", "5", "--cameras", "2", "--quiet"]
    assert main(["bench", "make-sim", "--out", str(a), "--seed", "3", "--predict", "geometric", *common]) == 0
    assert main(["bench", "make-sim", "--out", str(b), "--seed", "3", "--predict", "geometric", *common]) == 0
    assert main(["bench", "make-sim", "--out", str(c), "--seed", "4", *common]) == 0
    assert _digest(a) == _digest(b)  # same seed: byte-identical files
    recs_a = json.loads((a / "trajectory_dataset.json").read_text())
    recs_c = json.loads((c / "trajectory_dataset.json").read_text())
    assert [r["trajectory"] for r in recs_a] != [r["trajectory"] for r in recs_c]

    samples = load_benchmark(a)
    assert sorted(samples) == [0, 1, 2, 3, 4]
    for qid, s in samples.items():
        rec = s.record
        depth, mask, _ = load_images(s)
        assert depth.dtype == np.uint16 and depth.shape == (480, 640) and 300 < np.median(depth[depth > 0]) < 3000
        assert set(np.unique(mask)) == {0, 255}
        traj = np.array(rec["trajectory"])
        assert traj.shape == (8, 3) and (traj[:, 2] > 0).all()
        # the GT trace starts on the moved object's mask
        K = np.array(rec["gt_depth_intrinsics"])
        u, v = (K @ (traj[0] / traj[0, 2]))[:2]
        ys, xs = np.nonzero(mask)
        assert np.hypot(xs - u, ys - v).min() < 6
        assert rec["step"] in (1, 2) and rec["prompt"].split()[0] in ("put", "move")

    out = a / "eval"
    assert main(["bench", "tracespatial", "--data", str(a), "--predictions", str(a / "predictions_geometric.jsonl"),
                 "--out", str(out), "--quiet", "--no-images", "--model", "geometric"]) == 0
    summary = json.loads((out / "results.json").read_text())["summary"]["overall"]
    assert summary["answers"] == 5
    # the GT pose-built trace and the tracer's measured trace agree on start and end
    assert summary["start_success_3d"] >= 0.8 and summary["end_success_3d"] >= 0.6


@pytest.mark.slow
def test_make_sim_three_step_prompts(tmp_path):
    """max_steps=3 adds distance-from-a-midpoint prompts; their ground truth ends in the destination box."""
    import sys
    from pathlib import Path

    from robotracer.bench.dataset import load_benchmark
    from robotracer.bench.evaluate import evaluate_3d
    from robotracer.bench.make_sim import SimBenchConfig, make_sim_benchmark

    sys.path.insert(0, str(Path(__file__).parent))
    from perturbed import perturbed_prediction

    make_sim_benchmark(tmp_path, SimBenchConfig(samples=8, seed=4, cameras=1, max_steps=3), progress=False)
    recs = json.loads((tmp_path / "trajectory_dataset.json").read_text())
    three = [r for r in recs if r["step"] == 3]
    assert three, [r["prompt"] for r in recs]
    for r in three:
        assert "centimeters" in r["prompt"] and "the point between" in r["prompt"]
        assert r["category"] == "place_relative_between"
    preds = [{"question_id": r["id"], "model_prediction": perturbed_prediction(r, "exact", None)} for r in three]
    results = evaluate_3d(preds, load_benchmark(tmp_path), progress=False)
    assert all(r.start_success and r.end_success and not r.collision for r in results)
    with pytest.raises(ValueError, match="max_steps"):
        SimBenchConfig(max_steps=4)
