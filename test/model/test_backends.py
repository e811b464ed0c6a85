"""The ``robotracer`` and ``hf-vlm`` backends on tiny local models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from robotracer.model.prompts import trace_prompt
from robotracer.tracers.base import Observation, TracerError, make_tracer

ANSWER = "[(412, 530, 0.82), (600, 512, 0.91)]"
INSTRUCTION = "put the cup left of the plate"


@pytest.fixture(scope="module")
def observation(frame):
    rgb, depth, K = frame
    return Observation(rgb=rgb, depth=depth, intrinsics=K)


def test_robotracer_backend_refuses_bad_settings(tmp_path, tiny_checkpoint):
    with pytest.raises(TracerError, match="needs a checkpoint folder"):
        make_tracer("robotracer")
    with pytest.raises(TracerError, match="cannot load the RoboTracer checkpoint: no checkpoint at"):
        make_tracer("robotracer", checkpoint=str(tmp_path / "missing"), device="cpu")
    with pytest.raises(TracerError, match="valid: rgb, rgb\\+spatial"):
        make_tracer("robotracer", checkpoint=str(tiny_checkpoint), input_mode="depth")
    with pytest.raises(TracerError, match="valid: auto, float32"):
        make_tracer("robotracer", checkpoint=str(tiny_checkpoint), dtype="int8", device="cpu")
    if not torch.cuda.is_available():
        with pytest.raises(TracerError, match="CUDA is not available"):
            make_tracer("robotracer", checkpoint=str(tiny_checkpoint), device="cuda")


def test_robotracer_backend_reports_a_random_models_garbage(tiny_checkpoint, observation):
    tracer = make_tracer("robotracer", checkpoint=str(tiny_checkpoint), device="auto", max_new_tokens=8)
    assert tracer.device == ("cuda" if torch.cuda.is_available() else "cpu") and tracer.load_seconds > 0
    with pytest.raises(TracerError, match="robotracer tracer gave an unusable answer"):
        tracer.infer(observation, INSTRUCTION)


@pytest.mark.slow
def test_robotracer_backend_end_to_end_with_a_trained_tiny_model(tmp_path, tokenizer, observation):
    """Fit a tiny model to one answer, save it, load it through the backend, get the trace back."""
    from robotracer.model.modeling import RoboTracerForConditionalGeneration
    from robotracer.model.presets import tiny_config
    from robotracer.model.processing import RoboTracerProcessor

    torch.manual_seed(0)
    model = RoboTracerForConditionalGeneration(tiny_config(tokenizer)).train()
    proc = RoboTracerProcessor.from_config(model.config, tokenizer)
    inputs = proc(
        observation.rgb, trace_prompt(INSTRUCTION), "rgb+intrinsics+depth",
        intrinsics=observation.intrinsics, depth=observation.depth, answer=ANSWER,
    )
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-2)
    for _ in range(200):
        opt.zero_grad()
        loss = model(**inputs, scale_target=torch.tensor([1.7])).loss
        loss.backward()
        opt.step()
        if loss.item() < 0.05:
            break
    model.save_pretrained(tmp_path, tokenizer=tokenizer)
    tracer = make_tracer("robotracer", checkpoint=str(tmp_path), device="cpu", input_mode="rgb+intrinsics+depth")
    answer = tracer.infer(observation, INSTRUCTION)
    assert answer.text == ANSWER
    assert answer.trace.points.tolist() == [[412.0, 530.0, 0.82], [600.0, 512.0, 0.91]]


def _tiny_qwen25_vl(path):
    """A random Qwen2.5-VL (hidden 32, 2 layers) with a local tokenizer, image processor and chat template.

    (The combined Qwen2.5-VL processor needs torchvision for its video part, so it is not saved.)
    """
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration, Qwen2VLImageProcessorPil

    from robotracer.model.presets import build_tokenizer

    tok = build_tokenizer()
    tok.add_special_tokens({"additional_special_tokens": ["<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]})
    ids = {t: tok.convert_tokens_to_ids(t) for t in ("<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>")}
    template = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{% for c in m['content'] %}"
        "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>{% else %}{{ c['text'] }}{% endif %}"
        "{% endfor %}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
    )
    config = Qwen2_5_VLConfig(
        text_config=dict(
            vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, rope_scaling={"type": "mrope", "mrope_section": [2, 1, 1]}, max_position_embeddings=2048,
        ),
        vision_config=dict(
            depth=2, hidden_size=32, intermediate_size=64, num_heads=4, out_hidden_size=32, patch_size=14,
            spatial_merge_size=2, temporal_patch_size=2, window_size=56, fullatt_block_indexes=[1],
        ),
        image_token_id=ids["<|image_pad|>"], video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"], vision_end_token_id=ids["<|vision_end|>"],
        eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    Qwen2_5_VLForConditionalGeneration(config).save_pretrained(path)
    image_processor = Qwen2VLImageProcessorPil(min_pixels=56 * 56, max_pixels=112 * 112)
    tok.chat_template = template
    tok.save_pretrained(path)
    image_processor.save_pretrained(path)


@pytest.mark.slow
def test_hf_vlm_backend_runs_a_tiny_qwen25_vl(tmp_path, observation):
    _tiny_qwen25_vl(tmp_path)
    tracer = make_tracer("hf-vlm", model_path=str(tmp_path), device="cpu", max_new_tokens=6)
    assert tracer.device == "cpu" and tracer.load_seconds > 0
    # a random model answers noise: the backend must run end to end and reject it clearly
    with pytest.raises(TracerError, match="hf-vlm tracer gave an unusable answer"):
        tracer.infer(observation, INSTRUCTION)
    with pytest.raises(TracerError, match="config.json missing"):
        make_tracer("hf-vlm", model_path=str(tmp_path / "nothing"))
