"""The ``hf-vlm`` backend: any local transformers image-text-to-text model that answers ``[(x, y, d), ...]``.

Qwen2.5-VL / Qwen3-VL, RoboBrain 2.5 and similar, loaded from a local folder with
``AutoProcessor`` + ``AutoModelForImageTextToText``; the prompt is RoboTracer's 3D prompt sent
through the model's own chat template; greedy decoding.
"""

from __future__ import annotations

import time
from pathlib import Path

from robotracer.model.prompts import trace_prompt
from robotracer.tracers.base import Observation, TracerAnswer, TracerError
from robotracer.tracers.openai_compat import COORDINATES, answer_in_convention
from robotracer.tracers.robotracer_model import resolve_device, resolve_dtype


class _QwenVLInputs:
    """Tokenizer + image processor for Qwen-VL-style models when the full processor cannot load.

    transformers builds a Qwen-VL processor only with its video processor, which needs
    torchvision; images alone need neither. Each image placeholder (``<|image_pad|>``) becomes
    ``prod(image_grid_thw) / merge_size²`` tokens, as Qwen2-VL's processor does.
    """

    def __init__(self, tokenizer, image_processor, image_token: str) -> None:
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.image_token = image_token

    @classmethod
    def from_pretrained(cls, path: str) -> "_QwenVLInputs":
        from transformers import AutoImageProcessor, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(path)
        image_processor = AutoImageProcessor.from_pretrained(path)
        if "<|image_pad|>" not in tokenizer.get_vocab() or not hasattr(image_processor, "merge_size"):
            raise ValueError(f"the processor of {path} needs torchvision (pip install torchvision matching torch)")
        return cls(tokenizer, image_processor, "<|image_pad|>")

    def apply_chat_template(self, messages, **kwargs):
        return self.tokenizer.apply_chat_template(messages, **kwargs)

    def __call__(self, text, images, return_tensors="pt"):
        from transformers import BatchFeature

        pixels = self.image_processor(images=images, return_tensors=return_tensors)
        merge = self.image_processor.merge_size**2
        counts = [int(g.prod()) // merge for g in pixels["image_grid_thw"]]
        out = []
        for t in text:
            for n in counts:
                t = t.replace(self.image_token, "<|placeholder|>" * n, 1)
            out.append(t.replace("<|placeholder|>", self.image_token))
        tokens = self.tokenizer(out, return_tensors=return_tensors, add_special_tokens=False)
        return BatchFeature({**tokens, **pixels})

    def decode(self, ids, **kwargs):
        return self.tokenizer.decode(ids, **kwargs)


class HFVLMTracer:
    """A transformers vision-language model as a tracer.

    Args:
        model_path: local folder with the model, its processor and chat template.
        device, dtype: as for the ``robotracer`` backend (``auto`` = CUDA bf16 when available).
        max_new_tokens: answer length limit.
        coordinates: ``normalized_1000`` (Qwen3-VL, RoboBrain 2.5) or ``pixels`` (of the image given).

    Attributes:
        load_seconds, device.
    """

    name = "hf-vlm"

    def __init__(
        self,
        model_path: str = "",
        device: str = "auto",
        dtype: str = "auto",
        max_new_tokens: int = 256,
        coordinates: str = "normalized_1000",
    ) -> None:
        if not model_path:
            raise TracerError("the hf-vlm backend needs a local model folder (parameter 'model_path')")
        if not (Path(model_path) / "config.json").is_file():
            raise TracerError(f"no transformers model at {model_path!r} (config.json missing); pass a local model folder")
        if coordinates not in COORDINATES:
            raise TracerError(f"unknown coordinates {coordinates!r}; valid: {', '.join(COORDINATES)}")
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        self.max_new_tokens = int(max_new_tokens)
        self.coordinates = coordinates
        t0 = time.perf_counter()
        try:
            try:
                self.processor = AutoProcessor.from_pretrained(model_path)
            except (AttributeError, ImportError):  # processors with a video part need torchvision
                self.processor = _QwenVLInputs.from_pretrained(model_path)
            self.model = AutoModelForImageTextToText.from_pretrained(
                model_path, dtype=self.dtype, attn_implementation="sdpa"
            ).to(self.device)
        except (OSError, ValueError, KeyError) as exc:
            raise TracerError(f"cannot load the image-text-to-text model at {model_path}: {exc}") from exc
        self.model.eval()
        self.load_seconds = time.perf_counter() - t0

    def infer(self, observation: Observation, instruction: str) -> TracerAnswer:
        import torch
        from PIL import Image

        image = Image.fromarray(observation.rgb)
        messages = [
            {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": trace_prompt(instruction, "3d")}]}
        ]
        prompt = self.processor.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        inputs = self.processor(text=[prompt], images=[image], return_tensors="pt").to(self.device)
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        new = out[0, inputs["input_ids"].shape[1] :]
        text = self.processor.decode(new, skip_special_tokens=True).strip()
        size = (observation.intrinsics.width, observation.intrinsics.height)
        text = answer_in_convention(text, self.coordinates, size, self.name)
        return TracerAnswer.from_text(text, backend=self.name, image_size=size)
