"""The ``openai`` backend: an OpenAI-compatible chat endpoint (vLLM, SGLang, LM Studio…) with the image inline.

``POST {url}/chat/completions`` with the RGB as a base64 PNG ``image_url`` and RoboTracer's 3D
prompt; greedy (temperature 0). Lets a GPU host serve RoboTracer / RoboBrain / Qwen-VL while the
robot runs elsewhere, without a shared filesystem.
"""

from __future__ import annotations

import base64
import io
import os
import time

import numpy as np
from PIL import Image

from robotracer.model.prompts import trace_prompt
from robotracer.trace.parsing import TraceParseError, parse_trace
from robotracer.trace.types import CoordinateConvention
from robotracer.tracers.base import Observation, TracerAnswer, TracerError
from robotracer.tracers.http import check_reachable, request_json

COORDINATES = ("normalized_1000", "pixels")


def answer_in_convention(text: str, coordinates: str, image_size: tuple[int, int], backend: str) -> str:
    """The answer text with ``(u, v)`` in RoboTracer's [0, 1000] convention.

    ``coordinates="pixels"`` is for models that answer in pixels of the image they were given
    (``image_size`` = ``(width, height)``); their tuples are rescaled to [0, 1000].
    """
    if coordinates not in COORDINATES:
        raise TracerError(f"unknown coordinates {coordinates!r}; valid: {', '.join(COORDINATES)}")
    if coordinates == "normalized_1000":
        return text
    try:
        trace = parse_trace(text, convention=CoordinateConvention.PIXELS, image_size=image_size, require_depth=True, min_points=2)
    except TraceParseError as exc:
        raise TracerError(f"{backend} tracer gave an unusable answer: {exc}") from exc
    return trace.to_normalized().to_text()


def png_data_url(rgb: np.ndarray) -> str:
    """``(H, W, 3)`` uint8 → ``data:image/png;base64,...``."""
    buf = io.BytesIO()
    Image.fromarray(np.asarray(rgb, dtype=np.uint8)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


class OpenAICompatTracer:
    """Client of an OpenAI-compatible ``/v1/chat/completions`` server.

    Args:
        url: base url including ``/v1`` (vLLM: ``http://HOST:8000/v1``).
        model: served model name; empty = the first model the server lists.
        api_key: bearer token; empty = ``$OPENAI_API_KEY`` if set, else none.
        timeout_s, retries: per-request timeout and extra attempts (connection error, timeout, 5xx).
        max_tokens: answer length limit.
        coordinates: ``normalized_1000`` (RoboTracer, Qwen3-VL, RoboBrain 2.5) or ``pixels``.
        check_server: probe the server (and the model name) at construction.

    Attributes:
        load_seconds: time of the start-up probe; device: ``remote <url>``.
    """

    name = "openai"

    def __init__(
        self,
        url: str = "http://127.0.0.1:8000/v1",
        model: str = "",
        api_key: str = "",
        timeout_s: float = 60.0,
        retries: int = 2,
        max_tokens: int = 512,
        coordinates: str = "normalized_1000",
        check_server: bool = True,
        backoff_s: float = 0.5,
    ) -> None:
        if coordinates not in COORDINATES:
            raise TracerError(f"unknown coordinates {coordinates!r}; valid: {', '.join(COORDINATES)}")
        if timeout_s <= 0 or retries < 0:
            raise TracerError(f"timeout_s must be > 0 and retries >= 0, got {timeout_s}, {retries}")
        self.url = url.rstrip("/")
        self.model = model
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.max_tokens = int(max_tokens)
        self.coordinates = coordinates
        key = api_key or os.environ.get("OPENAI_API_KEY", "")
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.device = f"remote {self.url}"
        t0 = time.perf_counter()
        if check_server:
            check_reachable(self.url, self.timeout_s)
            self._check_model()
        self.load_seconds = time.perf_counter() - t0

    def _check_model(self) -> None:
        try:
            listing = request_json(self.url + "/models", None, self.timeout_s, 0, headers=self._headers)
        except TracerError:
            if not self.model:
                raise TracerError(f"{self.url}/models is not available; set the served model name (parameter 'model')") from None
            return  # some servers do not list models; the name is checked on the first request
        served = [m.get("id") for m in listing.get("data", []) if isinstance(m, dict)]
        if not self.model:
            if not served:
                raise TracerError(f"{self.url} serves no model")
            self.model = served[0]
        elif served and self.model not in served:
            raise TracerError(f"{self.url} does not serve model {self.model!r}; served: {', '.join(served)}")

    def payload(self, observation: Observation, instruction: str) -> dict:
        """The chat-completions request body."""
        return {
            "model": self.model,
            "messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": png_data_url(observation.rgb)}},
                        {"type": "text", "text": trace_prompt(instruction, "3d")},
                    ],
                }
            ],
            "max_tokens": self.max_tokens,
            "temperature": 0.0,
            "n": 1,
        }

    def infer(self, observation: Observation, instruction: str) -> TracerAnswer:
        reply = request_json(
            self.url + "/chat/completions",
            self.payload(observation, instruction),
            self.timeout_s,
            self.retries,
            self.backoff_s,
            headers=self._headers,
        )
        try:
            text = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise TracerError(f"{self.url}/chat/completions reply has no choices[0].message.content; keys: {sorted(reply)}") from None
        if not isinstance(text, str):
            raise TracerError(f"{self.url}/chat/completions answered non-text content: {str(text)[:80]!r}")
        size = (observation.intrinsics.width, observation.intrinsics.height)
        text = answer_in_convention(text, self.coordinates, size, self.name)
        return TracerAnswer.from_text(text, backend=self.name, image_size=size)
