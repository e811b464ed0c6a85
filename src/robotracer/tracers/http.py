"""The ``http`` backend: RoboTracer's official evaluation server contract.

``POST {url}/query`` with JSON ``{"image_paths": [...], "depth_z_paths": [...] | null,
"intrinsics": [[3x3]] | null, "enable_spatial": 0 | 1, "text": prompt}``; the answer is the
``"answer"`` field of the JSON reply (``Evaluation/query_model.py:query_server_spatial_encoder``).
The server reads the images *by path*: the RGB is written as PNG and the depth as a 16-bit PNG in
millimetres (TraceSpatial-Bench's ``gt_depth.png`` format) into ``exchange_dir``, which the server
must see at the same path (same host or a shared mount). For a GPU host without a shared
filesystem use the ``openai`` backend, which sends images inline.

The input modes map to the official evaluation's: ``rgb`` → ``enable_spatial=0``;
``rgb+spatial`` → 1; ``rgb+intrinsics`` → 1 + intrinsics; ``rgb+intrinsics+depth`` → 1 + both.
"""

from __future__ import annotations

import json
import socket
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from PIL import Image

from robotracer.model.prompts import trace_prompt
from robotracer.tracers.base import Observation, TracerAnswer, TracerError

INPUT_MODES = ("rgb", "rgb+spatial", "rgb+intrinsics", "rgb+intrinsics+depth")


def check_reachable(url: str, timeout_s: float) -> None:
    """Open a TCP connection to ``url``'s host and port; :class:`TracerError` if nothing listens."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TracerError(f"bad server url {url!r}; expected http://HOST:PORT")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise TracerError(f"tracer server at {url} is not reachable ({exc}); start it or fix the url") from None


def request_json(
    url: str,
    payload: dict | None,
    timeout_s: float,
    retries: int,
    backoff_s: float = 0.5,
    headers: dict[str, str] | None = None,
) -> dict:
    """POST (or GET when ``payload`` is None) JSON with a timeout and bounded retries.

    Connection errors, timeouts and 5xx replies are retried ``retries`` times; a 4xx reply or a
    body that is not a JSON object fails at once. Raises :class:`TracerError` with the reason.
    """
    data = None if payload is None else json.dumps(payload).encode()
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    last = ""
    for attempt in range(retries + 1):
        if attempt:
            time.sleep(backoff_s * attempt)
        req = urllib.request.Request(url, data=data, headers=hdrs, method="GET" if data is None else "POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout_s) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode(errors="replace")
            if exc.code < 500:
                raise TracerError(f"{url} refused the request: HTTP {exc.code} {detail}") from None
            last = f"HTTP {exc.code} {detail}"
            continue
        except (TimeoutError, socket.timeout):
            last = f"no answer within {timeout_s:g} s"
            continue
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            last = str(getattr(exc, "reason", exc))
            continue
        try:
            reply = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise TracerError(f"{url} answered something that is not JSON: {body[:80]!r}") from None
        if not isinstance(reply, dict):
            raise TracerError(f"{url} answered JSON that is not an object: {body[:80]!r}")
        return reply
    raise TracerError(f"{url} failed after {retries + 1} attempt(s): {last}")


def write_depth_png_mm(depth: np.ndarray, path: Path) -> None:
    """``(H, W)`` metres → 16-bit PNG in millimetres (holes and > 65.535 m → 0)."""
    d = np.nan_to_num(np.asarray(depth, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    mm = np.round(d * 1000.0)
    mm[(mm < 0) | (mm > 65535)] = 0
    Image.fromarray(mm.astype(np.uint16)).save(path)


class HTTPTracer:
    """Client of a RoboTracer server speaking the official ``/query`` contract.

    Args:
        url: server base url (the official scripts use ``http://127.0.0.1:25554``).
        timeout_s: per-request timeout.
        retries: extra attempts after a connection error, timeout or 5xx reply.
        input_mode: one of ``INPUT_MODES``.
        exchange_dir: folder the server can read, where request images are written (default: a
            private temporary folder, for a server on this host).
        check_server: probe the server at construction (fail fast when it is down).

    Attributes:
        load_seconds: time of the start-up probe; device: ``remote <url>``.
    """

    name = "http"

    def __init__(
        self,
        url: str = "http://127.0.0.1:25554",
        timeout_s: float = 30.0,
        retries: int = 2,
        input_mode: str = "rgb+intrinsics+depth",
        exchange_dir: str = "",
        check_server: bool = True,
        backoff_s: float = 0.5,
    ) -> None:
        if input_mode not in INPUT_MODES:
            raise TracerError(f"unknown input mode {input_mode!r}; valid: {', '.join(INPUT_MODES)}")
        if timeout_s <= 0 or retries < 0:
            raise TracerError(f"timeout_s must be > 0 and retries >= 0, got {timeout_s}, {retries}")
        self.url = url.rstrip("/")
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self.input_mode = input_mode
        self.device = f"remote {self.url}"
        self._tmp = None
        if exchange_dir:
            self.exchange_dir = Path(exchange_dir)
            self.exchange_dir.mkdir(parents=True, exist_ok=True)
        else:
            self._tmp = tempfile.TemporaryDirectory(prefix="robotracer-http-")
            self.exchange_dir = Path(self._tmp.name)
        t0 = time.perf_counter()
        if check_server:
            check_reachable(self.url, self.timeout_s)
        self.load_seconds = time.perf_counter() - t0

    def payload(self, observation: Observation, instruction: str, rgb_path: Path, depth_path: Path) -> dict:
        """The ``/query`` request body for this backend's input mode."""
        spatial = self.input_mode != "rgb"
        with_k = self.input_mode in ("rgb+intrinsics", "rgb+intrinsics+depth")
        with_d = self.input_mode == "rgb+intrinsics+depth"
        return {
            "image_paths": [str(rgb_path)],
            "depth_z_paths": [str(depth_path)] if with_d else None,
            "intrinsics": observation.intrinsics.matrix.tolist() if with_k else None,
            "enable_spatial": int(spatial),
            "text": trace_prompt(instruction, "3d"),
        }

    def infer(self, observation: Observation, instruction: str) -> TracerAnswer:
        stem = uuid.uuid4().hex
        rgb_path = (self.exchange_dir / f"{stem}_rgb.png").resolve()
        depth_path = (self.exchange_dir / f"{stem}_depth_mm.png").resolve()
        try:
            Image.fromarray(np.asarray(observation.rgb, dtype=np.uint8)).save(rgb_path)
            if self.input_mode == "rgb+intrinsics+depth":
                write_depth_png_mm(observation.depth, depth_path)
            reply = request_json(
                self.url + "/query",
                self.payload(observation, instruction, rgb_path, depth_path),
                self.timeout_s,
                self.retries,
                self.backoff_s,
            )
        finally:
            rgb_path.unlink(missing_ok=True)
            depth_path.unlink(missing_ok=True)
        answer = reply.get("answer")
        if not isinstance(answer, str):
            raise TracerError(f"{self.url}/query reply has no text 'answer' field; keys: {sorted(reply)}")
        size = (observation.intrinsics.width, observation.intrinsics.height)
        return TracerAnswer.from_text(answer, backend=self.name, image_size=size)

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
