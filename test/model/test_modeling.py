"""Tiny random RoboTracer: forward and generate in every input mode, the scale decoder and SFT loss."""

import pytest
import torch

from robotracer.model.configuration import InputMode
from robotracer.model.losses import scale_loss, sft_loss

PROMPT = 'Point the 3D object-centric visual trace for the task "put the cup left of the plate".'
MODES = [m.value for m in InputMode]


def _inputs(processor, frame, mode, **kw):
    rgb, depth, K = frame
    return processor(rgb, PROMPT, mode, intrinsics=K, depth=depth, **kw)


@pytest.mark.parametrize("mode", MODES)
def test_forward_and_generate_in_every_input_mode(tiny_model, processor, frame, mode):
    inputs = _inputs(processor, frame, mode)
    cfg = tiny_model.config
    ids = inputs["input_ids"]
    n_tiles = inputs["pixel_values"].shape[0]
    assert int((ids == cfg.image_token_id).sum()) == n_tiles * processor.settings.tokens_per_tile
    n_spatial = int((ids == cfg.spatial_token_id).sum())
    assert (n_spatial > 0) == (mode != "rgb")
    assert ("ray_directions" in inputs) == ("intrinsics" in mode)
    assert ("depth_along_ray" in inputs) == mode.endswith("depth")
    out = tiny_model(**inputs)
    assert out.logits.shape == (1, ids.shape[1], cfg.llm_cfg["vocab_size"])
    assert out.log_scale.shape == (1,) and torch.isfinite(out.log_scale).all()
    gen = tiny_model.generate(**inputs, max_new_tokens=6, min_new_tokens=6, eos_token_id=processor.stop_token_ids, return_scale=True)
    assert gen.sequences.shape == (1, 6)
    assert torch.allclose(gen.log_scale, out.log_scale, atol=1e-5)
    # greedy + KV cache agrees with a teacher-forced forward on the generated tokens
    full = torch.cat([ids, gen.sequences], dim=1)
    step = tiny_model(**{**inputs, "input_ids": full, "attention_mask": torch.ones_like(full)})
    argmax = step.logits[0, ids.shape[1] - 1 : -1].argmax(-1)
    assert torch.equal(argmax, gen.sequences[0])


def test_each_geometric_input_changes_the_prediction(tiny_model, processor, frame):
    logits = {m: tiny_model(**_inputs(processor, frame, m)).logits[0, -1] for m in MODES[1:]}
    assert not torch.allclose(logits["rgb+spatial"], logits["rgb+intrinsics"])
    assert not torch.allclose(logits["rgb+intrinsics"], logits["rgb+intrinsics+depth"])
    # metric scale reaches the model: the same scene twice as far gives other features
    rgb, depth, K = frame
    near = tiny_model(**processor(rgb, PROMPT, "rgb+intrinsics+depth", intrinsics=K, depth=depth)).logits[0, -1]
    far = tiny_model(**processor(rgb, PROMPT, "rgb+intrinsics+depth", intrinsics=K, depth=2 * depth)).logits[0, -1]
    assert not torch.allclose(near, far)


def test_missing_inputs_are_reported(tiny_model, processor, frame):
    rgb, depth, K = frame
    with pytest.raises(ValueError, match="needs the camera intrinsics"):
        processor(rgb, PROMPT, "rgb+intrinsics")
    with pytest.raises(ValueError, match="needs a depth image"):
        processor(rgb, PROMPT, "rgb+intrinsics+depth", intrinsics=K)
    with pytest.raises(ValueError, match="valid: rgb, rgb\\+spatial"):
        processor(rgb, PROMPT, "depth-only")
    inputs = _inputs(processor, frame, "rgb+spatial")
    inputs.pop("spatial_pixel_values")
    with pytest.raises(ValueError, match="spatial placeholder"):
        tiny_model(**inputs)


def test_scale_loss_is_log_l2_with_stopgrad():
    pred = torch.tensor([0.0, 1.0], requires_grad=True)
    target = torch.tensor([1.0, torch.e], requires_grad=True)
    assert scale_loss(pred, target).item() == pytest.approx(0.0, abs=1e-6)
    loss = sft_loss(torch.tensor(2.0), pred, torch.tensor([torch.e, torch.e]), alpha=0.1)
    assert loss.item() == pytest.approx(2.0 + 0.1 * (1.0 + 0.0) / 2)
    loss.backward()
    assert target.grad is None  # stop-gradient on the target
    with pytest.raises(ValueError, match="positive"):
        scale_loss(pred, torch.tensor([0.0, 1.0]))


@pytest.mark.slow
def test_sft_gradient_step_lowers_the_loss_and_keeps_the_spatial_encoder_frozen(tokenizer, frame):
    from robotracer.model.modeling import RoboTracerForConditionalGeneration
    from robotracer.model.presets import tiny_config
    from robotracer.model.processing import RoboTracerProcessor

    torch.manual_seed(1)
    model = RoboTracerForConditionalGeneration(tiny_config(tokenizer)).train()
    proc = RoboTracerProcessor.from_config(model.config, tokenizer)
    inputs = _inputs(proc, frame, "rgb+intrinsics+depth", answer="[(412, 530, 0.82), (600, 512, 0.91)]")
    target = torch.tensor([2.5])
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=0.05)
    out = model(**inputs, scale_target=target)
    expected = out.ntp_loss + 0.1 * (out.log_scale - torch.log(target)).pow(2).mean()
    assert out.loss.item() == pytest.approx(expected.item(), rel=1e-6)
    out.loss.backward()
    assert all(p.grad is None for p in model.spatial_encoder.parameters())
    assert model.spatial_projector.layers[0].weight.grad is not None
    assert model.scale_decoder.layers[0].weight.grad is not None
    opt.step()
    after = model(**inputs, scale_target=target)
    assert after.loss.item() < out.loss.item()
    assert after.scale_loss.item() < out.scale_loss.item()
