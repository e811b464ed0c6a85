"""Tracer backends: one interface, ``infer(observation, instruction) -> TracerAnswer``.

Backends register by name (``geometric``, later ``robotracer``, ``hf-vlm``, ``http``...);
``make_tracer(name, **params)`` builds one.
"""

from robotracer.tracers.base import (
    Observation,
    TracerAnswer,
    TracerBackend,
    TracerError,
    available_tracers,
    make_tracer,
    register_tracer,
)

__all__ = [
    "Observation",
    "TracerAnswer",
    "TracerBackend",
    "TracerError",
    "available_tracers",
    "make_tracer",
    "register_tracer",
]
