"""Tiny random RoboTracer models (hidden 32, 2 layers) shared by the model tests."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from robotracer.geometry.camera import Intrinsics  # noqa: E402
from robotracer.model.modeling import RoboTracerForConditionalGeneration  # noqa: E402
from robotracer.model.presets import build_tokenizer, tiny_config  # noqa: E402
from robotracer.model.processing import RoboTracerProcessor  # noqa: E402


@pytest.fixture(scope="session")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="session")
def tiny_model(tokenizer):
    torch.manual_seed(0)
    return RoboTracerForConditionalGeneration(tiny_config(tokenizer)).eval()


@pytest.fixture(scope="session")
def processor(tiny_model, tokenizer):
    return RoboTracerProcessor.from_config(tiny_model.config, tokenizer)


@pytest.fixture(scope="session")
def frame():
    """A 64x48 RGB-D frame: (rgb, depth, intrinsics)."""
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    depth = np.linspace(0.6, 1.8, 48 * 64, dtype=np.float32).reshape(48, 64)
    depth[0, :5] = 0.0  # holes
    return rgb, depth, Intrinsics(55.0, 55.0, 31.5, 23.5, 64, 48)


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, tiny_model, tokenizer):
    path = tmp_path_factory.mktemp("ckpt") / "robotracer-tiny"
    tiny_model.save_pretrained(path, tokenizer=tokenizer)
    return path
