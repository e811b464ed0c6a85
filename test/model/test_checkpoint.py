"""The NVILA/RoboRefer/RoboTracer checkpoint layout: save, load, identical outputs, clear errors."""

import json
import shutil

import pytest
import torch
from safetensors import safe_open

from robotracer.model.checkpoint import CheckpointError, describe, load_checkpoint, load_tokenizer
from robotracer.model.modeling import RoboTracerForConditionalGeneration
from robotracer.model.presets import tiny_config
from robotracer.model.processing import RoboTracerProcessor

PROMPT = 'Point the 3D object-centric visual trace for the task "put the cup left of the plate".'
PARTS = ["llm", "vision_tower", "mm_projector", "spatial_encoder", "spatial_projector", "scale_projector", "scale_decoder"]


def test_layout_matches_the_releases(tiny_checkpoint):
    names = sorted(p.name for p in tiny_checkpoint.iterdir())
    assert names == sorted(PARTS + ["config.json"])
    top = json.loads((tiny_checkpoint / "config.json").read_text())
    for part in PARTS:
        assert isinstance(top[f"{part}_cfg"], dict)
        assert (tiny_checkpoint / part / "model.safetensors").is_file()
    assert top["llm_cfg"]["model_type"] == "qwen2" and top["mm_projector_cfg"]["mm_projector_type"] == "mlp_downsample_3x3_fix"
    assert (tiny_checkpoint / "llm" / "tokenizer_config.json").is_file()
    assert (tiny_checkpoint / "vision_tower" / "preprocessor_config.json").is_file()
    with safe_open(str(tiny_checkpoint / "mm_projector" / "model.safetensors"), "pt") as f:
        assert sorted(f.keys()) == sorted(f"layers.{i}.{w}" for i in (1, 2, 4, 5, 7) for w in ("weight", "bias"))
    with safe_open(str(tiny_checkpoint / "vision_tower" / "model.safetensors"), "pt") as f:
        assert all(k.startswith("vision_model.") for k in f.keys())
    with safe_open(str(tiny_checkpoint / "llm" / "model.safetensors"), "pt") as f:
        assert "model.embed_tokens.weight" in f.keys()
    info = describe(tiny_checkpoint)
    assert set(info["parts"]) == set(PARTS) and info["parts"]["mm_projector"]["parameters"] > 0


@pytest.mark.parametrize("mode", ["rgb", "rgb+intrinsics+depth"])
def test_round_trip_gives_identical_outputs(tiny_checkpoint, tiny_model, processor, frame, mode):
    loaded = load_checkpoint(tiny_checkpoint)
    proc = RoboTracerProcessor.from_config(loaded.config, load_tokenizer(tiny_checkpoint))
    rgb, depth, K = frame
    a_in = processor(rgb, PROMPT, mode, intrinsics=K, depth=depth)
    b_in = proc(rgb, PROMPT, mode, intrinsics=K, depth=depth)
    assert torch.equal(a_in["input_ids"], b_in["input_ids"])
    with torch.no_grad():
        a, b = tiny_model(**a_in), loaded(**b_in)
    assert torch.equal(a.logits, b.logits) and torch.equal(a.log_scale, b.log_scale)
    ga = tiny_model.generate(**a_in, max_new_tokens=5, min_new_tokens=5, eos_token_id=processor.stop_token_ids)
    gb = loaded.generate(**b_in, max_new_tokens=5, min_new_tokens=5, eos_token_id=proc.stop_token_ids)
    assert torch.equal(ga.sequences, gb.sequences)


def test_roborefer_depth_tower_round_trip(tmp_path, tokenizer, frame):
    torch.manual_seed(3)
    model = RoboTracerForConditionalGeneration(tiny_config(tokenizer, spatial=False, scale=False, depth_tower=True)).eval()
    model.save_pretrained(tmp_path, tokenizer=tokenizer)
    assert (tmp_path / "depth_tower" / "model.safetensors").is_file() and (tmp_path / "depth_projector").is_dir()
    loaded = load_checkpoint(tmp_path)
    proc = RoboTracerProcessor.from_config(loaded.config, tokenizer)
    rgb, depth, K = frame
    with pytest.raises(ValueError, match="spatial encoder"):
        proc(rgb, PROMPT, "rgb+intrinsics+depth", intrinsics=K, depth=depth)
    inputs = proc(rgb, PROMPT, "rgb", depth=depth)
    assert "depth_pixel_values" not in inputs  # RoboRefer depth only in the depth mode
    with torch.no_grad():
        assert torch.equal(model(**inputs).logits, loaded(**inputs).logits)


def _copy(src, dst):
    shutil.copytree(src, dst)
    return dst


def test_missing_checkpoint_and_parts_are_named(tmp_path, tiny_checkpoint):
    with pytest.raises(CheckpointError, match="no checkpoint at .*found: \\(folder does not exist\\)"):
        load_checkpoint(tmp_path / "nowhere")
    ckpt = _copy(tiny_checkpoint, tmp_path / "c1")
    shutil.rmtree(ckpt / "spatial_encoder")
    with pytest.raises(CheckpointError, match="spatial_encoder_cfg but the subfolder spatial_encoder/ is missing; found: .*llm/"):
        load_checkpoint(ckpt)
    ckpt = _copy(tiny_checkpoint, tmp_path / "c2")
    (ckpt / "mm_projector" / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="mm_projector: expected model.safetensors .*found: config.json"):
        load_checkpoint(ckpt)


def test_mismatched_weights_name_expected_and_found(tmp_path, tiny_checkpoint):
    ckpt = _copy(tiny_checkpoint, tmp_path / "c3")
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg["vision_tower_cfg"]["intermediate_size"] = 48
    (ckpt / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="vision_tower/.*fc1.bias: the config expects shape \\[48\\], the checkpoint has \\[64\\]"):
        load_checkpoint(ckpt)
    cfg["vision_tower_cfg"]["intermediate_size"] = 64
    cfg["mm_projector_cfg"]["mm_projector_type"] = "mlp_downsample"
    (ckpt / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="mm_projector/ does not match its config: missing"):
        load_checkpoint(ckpt)
    cfg["mm_projector_cfg"]["mm_projector_type"] = "mlp_9x9"
    (ckpt / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="unknown mm_projector_type 'mlp_9x9'; valid: mlp_downsample_3x3_fix"):
        load_checkpoint(ckpt)


def test_model_cli_makes_and_describes_a_checkpoint(tmp_path, capsys):
    from robotracer.cli.main import main

    assert main(["model", "make-tiny-checkpoint", str(tmp_path / "t")]) == 0
    assert main(["model", "info", str(tmp_path / "t")]) == 0
    out = capsys.readouterr().out
    assert '"mm_projector"' in out and '"spatial_encoder"' in out
    assert main(["model", "info", str(tmp_path / "none")]) == 1
    assert "no checkpoint at" in capsys.readouterr().out
    assert load_checkpoint(tmp_path / "t").scale_decoder is not None
