"""The tracer backend interface and its registry.

Every backend answers in RoboTracer's text format (``[(x, y, d), ...]``) and the
answer is parsed by the one project parser, so a geometric planner, the RoboTracer
model and a remote server are interchangeable.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass, field
from typing import Callable, Protocol, runtime_checkable

import numpy as np

from robotracer.geometry.camera import Intrinsics
from robotracer.trace.parsing import TraceParseError, parse_trace
from robotracer.trace.types import Trace


class TracerError(RuntimeError):
    """The tracer could not produce a trace; the message is the user-facing reason."""


@dataclass(frozen=True)
class Observation:
    """One RGB-D frame and what is known about it.

    Attributes:
        rgb: ``(H, W, 3)`` uint8.
        depth: ``(H, W)`` float32 metres; 0 or NaN are holes.
        intrinsics: the camera model of both images.
        segmentation: optional ``(H, W)`` uint16 object ids (0 = background).
        labels: names of the segmentation ids.
        label_source: where the segmentation comes from (``sim_ground_truth``, a detector...).
        stamp: capture time in seconds.
    """

    rgb: np.ndarray
    depth: np.ndarray
    intrinsics: Intrinsics
    segmentation: np.ndarray | None = None
    labels: dict[int, str] = field(default_factory=dict)
    label_source: str = ""
    stamp: float = 0.0

    def __post_init__(self) -> None:
        h, w = self.intrinsics.height, self.intrinsics.width
        if self.rgb.shape[:2] != (h, w) or self.depth.shape[:2] != (h, w):
            raise ValueError(
                f"image sizes disagree: rgb {self.rgb.shape[1]}x{self.rgb.shape[0]}, depth "
                f"{self.depth.shape[1]}x{self.depth.shape[0]}, camera info {w}x{h}"
            )
        if self.segmentation is not None and self.segmentation.shape[:2] != (h, w):
            raise ValueError("segmentation image size differs from the camera's")


@dataclass(frozen=True)
class TracerAnswer:
    """A backend's answer: the raw text and the trace parsed from it."""

    text: str
    trace: Trace
    backend: str
    moved_object: str = ""
    seconds: float = 0.0

    @classmethod
    def from_text(cls, text: str, backend: str, image_size: tuple[int, int], **kwargs) -> "TracerAnswer":
        """Parse ``text`` with the project parser; a bad answer raises :class:`TracerError`."""
        try:
            trace = parse_trace(text, image_size=image_size, require_depth=True, min_points=2)
        except TraceParseError as exc:
            raise TracerError(f"{backend} tracer gave an unusable answer: {exc}") from exc
        return cls(text=text, trace=trace, backend=backend, **kwargs)


@runtime_checkable
class TracerBackend(Protocol):
    """What the tracer node needs from a backend."""

    name: str

    def infer(self, observation: Observation, instruction: str) -> TracerAnswer:
        """Return a trace for ``instruction`` on ``observation`` or raise :class:`TracerError`."""
        ...


_REGISTRY: dict[str, str | Callable[..., TracerBackend]] = {
    # name -> "module:factory" (imported lazily so heavy backends cost nothing until used)
    "geometric": "robotracer.tracers.geometric:GeometricTracer",
    "robotracer": "robotracer.tracers.robotracer_model:RoboTracerBackend",
    "hf-vlm": "robotracer.tracers.hf_vlm:HFVLMTracer",
    "http": "robotracer.tracers.http:HTTPTracer",
    "openai": "robotracer.tracers.openai_compat:OpenAICompatTracer",
}


def register_tracer(name: str, factory: str | Callable[..., TracerBackend]) -> None:
    """Register a backend factory (a callable or a ``"module:attr"`` path)."""
    _REGISTRY[name] = factory


def available_tracers() -> list[str]:
    return sorted(_REGISTRY)


def make_tracer(name: str, **params) -> TracerBackend:
    """Build the backend registered as ``name`` with its parameters."""
    if name not in _REGISTRY:
        raise TracerError(f"unknown tracer backend {name!r}; available: {', '.join(available_tracers())}")
    factory = _REGISTRY[name]
    if isinstance(factory, str):
        module, attr = factory.split(":")
        factory = getattr(importlib.import_module(module), attr)
    return factory(**params)


def timed_infer(backend: TracerBackend, observation: Observation, instruction: str, **options) -> TracerAnswer:
    """Run ``backend.infer`` (with a backend's own ``options``) and record the wall time in the answer."""
    t0 = time.perf_counter()
    answer = backend.infer(observation, instruction, **options)
    return TracerAnswer(
        text=answer.text,
        trace=answer.trace,
        backend=answer.backend,
        moved_object=answer.moved_object,
        seconds=time.perf_counter() - t0,
    )


