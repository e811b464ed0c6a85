"""The ``robotracer`` backend: the RoboTracer model loaded once from a local checkpoint."""

from __future__ import annotations

import time

from robotracer.model.prompts import trace_prompt
from robotracer.tracers.base import Observation, TracerAnswer, TracerError

DTYPES = ("auto", "float32", "bfloat16", "float16")


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when available else ``cpu``; an unavailable device raises :class:`TracerError`."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise TracerError(f"device {device!r} requested but CUDA is not available here; use device 'cpu' or 'auto'")
    if not (device == "cpu" or device.startswith("cuda")):
        raise TracerError(f"unknown device {device!r}; valid: auto, cpu, cuda, cuda:N")
    if device.startswith("cuda:") and int(device.split(":")[1]) >= torch.cuda.device_count():
        raise TracerError(f"device {device!r} does not exist; this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def resolve_dtype(dtype: str, device: str):
    """``auto`` → bfloat16 on CUDA, float32 on CPU."""
    import torch

    if dtype not in DTYPES:
        raise TracerError(f"unknown dtype {dtype!r}; valid: {', '.join(DTYPES)}")
    if dtype == "auto":
        return torch.bfloat16 if device.startswith("cuda") else torch.float32
    return getattr(torch, dtype)


class RoboTracerBackend:
    """RoboTracer on this machine.

    Args:
        checkpoint: folder in the NVILA/RoboTracer layout (see :mod:`robotracer.model.checkpoint`).
        device: ``auto``, ``cpu``, ``cuda`` or ``cuda:N``.
        dtype: ``auto`` (bf16 on CUDA, fp32 on CPU), ``float32``, ``bfloat16``, ``float16``.
        input_mode: ``rgb``, ``rgb+spatial``, ``rgb+intrinsics`` or ``rgb+intrinsics+depth``.
        max_new_tokens: answer length limit.

    Attributes:
        load_seconds: time spent loading the checkpoint.
        device: the device the model runs on.

    Raises:
        TracerError: at construction when the checkpoint, device or dtype is unusable.
    """

    name = "robotracer"

    def __init__(
        self,
        checkpoint: str = "",
        device: str = "auto",
        dtype: str = "auto",
        input_mode: str = "rgb+intrinsics+depth",
        max_new_tokens: int = 256,
    ) -> None:
        from robotracer.model.checkpoint import CheckpointError, load_checkpoint, load_tokenizer
        from robotracer.model.configuration import InputMode
        from robotracer.model.processing import RoboTracerProcessor

        if not checkpoint:
            raise TracerError("the robotracer backend needs a checkpoint folder (parameter 'checkpoint')")
        try:
            self.input_mode = InputMode.parse(input_mode)
        except ValueError as exc:
            raise TracerError(str(exc)) from None
        self.device = resolve_device(device)
        self.dtype = resolve_dtype(dtype, self.device)
        self.max_new_tokens = int(max_new_tokens)
        t0 = time.perf_counter()
        try:
            self.model = load_checkpoint(checkpoint, device=self.device, dtype=self.dtype)
            self.processor = RoboTracerProcessor.from_config(self.model.config, load_tokenizer(checkpoint))
        except (CheckpointError, ValueError) as exc:
            raise TracerError(f"cannot load the RoboTracer checkpoint: {exc}") from exc
        if self.input_mode.uses_spatial_encoder and self.model.spatial_encoder is None:
            raise TracerError(
                f"input mode {self.input_mode.value!r} needs a spatial encoder but {checkpoint} has none; use input_mode 'rgb'"
            )
        self.load_seconds = time.perf_counter() - t0

    def infer(self, observation: Observation, instruction: str) -> TracerAnswer:
        import torch

        try:
            inputs = self.processor(
                observation.rgb,
                trace_prompt(instruction, "3d"),
                self.input_mode,
                intrinsics=observation.intrinsics,
                depth=observation.depth,
            )
        except ValueError as exc:
            raise TracerError(f"robotracer cannot use this observation: {exc}") from exc
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        with torch.inference_mode():
            out = self.model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, eos_token_id=self.processor.stop_token_ids
            )
        text = self.processor.decode(out.sequences[0])
        size = (observation.intrinsics.width, observation.intrinsics.height)
        return TracerAnswer.from_text(text, backend=self.name, image_size=size)
