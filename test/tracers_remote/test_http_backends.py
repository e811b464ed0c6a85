"""The http (official /query) and openai (chat completions) backends against a local server on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from PIL import Image

from robotracer.geometry.camera import Intrinsics
from robotracer.tracers.base import Observation, TracerError, make_tracer
from robotracer.tracers.http import HTTPTracer
from robotracer.tracers.openai_compat import OpenAICompatTracer

ANSWER = "[(412, 530, 0.82), (455, 480, 0.79), (600, 512, 0.91)]"


class _Server:
    """A scripted server: each request pops the next behaviour (default: answer correctly)."""

    def __init__(self):
        self.requests: list[tuple[str, dict | None]] = []
        self.script: list[str] = []
        self.seen_files: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, code, body: bytes):
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                outer.requests.append((self.path, None))
                if self.path == "/v1/models":
                    self._reply(200, json.dumps({"data": [{"id": "robotracer-2b"}, {"id": "qwen"}]}).encode())
                else:
                    self._reply(404, b"{}")

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append((self.path, body))
                if self.path == "/query":  # the official server opens the files by path
                    files = {"rgb": np.asarray(Image.open(body["image_paths"][0]))}
                    if body["depth_z_paths"]:
                        files["depth"] = np.asarray(Image.open(body["depth_z_paths"][0]))
                    outer.seen_files.append(files)
                what = outer.script.pop(0) if outer.script else "ok"
                if what == "slow":
                    time.sleep(1.0)
                    what = "ok"
                if what == "500":
                    return self._reply(500, b"overloaded")
                if what == "garbage":
                    return self._reply(200, b"<html>not json</html>")
                if what == "no-answer":
                    return self._reply(200, json.dumps({"result": ANSWER}).encode())
                text = {"nonsense": "I cannot see a cup.", "pixels": "[(32, 24, 1.0), (64, 48, 2.0)]"}.get(what, ANSWER)
                if self.path == "/query":
                    return self._reply(200, json.dumps({"answer": text}).encode())
                return self._reply(200, json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode())

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server():
    s = _Server()
    yield s
    s.close()


@pytest.fixture(scope="module")
def obs():
    rgb = np.zeros((48, 64, 3), np.uint8)
    rgb[10:20, 30:40] = (200, 30, 30)
    depth = np.full((48, 64), 1.234, np.float32)
    depth[0, 0] = np.nan
    return Observation(rgb=rgb, depth=depth, intrinsics=Intrinsics(55.0, 56.0, 31.5, 23.5, 64, 48))


def _free_port_url():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_official_query_contract(server, obs):
    tracer = make_tracer("http", url=server.url, timeout_s=2.0, retries=0)
    answer = tracer.infer(obs, "put the red block left of the plate")
    assert answer.backend == "http" and len(answer.trace) == 3 and answer.trace.points[0, 2] == pytest.approx(0.82)
    path, body = server.requests[-1]
    assert path == "/query"
    assert set(body) == {"image_paths", "depth_z_paths", "intrinsics", "enable_spatial", "text"}
    assert body["enable_spatial"] == 1
    assert body["intrinsics"] == [[55.0, 0.0, 31.5], [0.0, 56.0, 23.5], [0.0, 0.0, 1.0]]
    assert body["text"].startswith('Point the 3D object-centric visual trace for the task "put the red block left of the plate".')
    files = server.seen_files[-1]
    assert np.array_equal(files["rgb"], obs.rgb)
    assert files["depth"].dtype == np.uint16 and files["depth"][1, 1] == 1234 and files["depth"][0, 0] == 0  # mm, hole = 0
    assert not any(tracer.exchange_dir.iterdir())  # request files are removed
    assert tracer.device == f"remote {server.url}" and tracer.load_seconds >= 0


@pytest.mark.parametrize(
    "mode, spatial, with_k, with_d",
    [("rgb", 0, False, False), ("rgb+spatial", 1, False, False), ("rgb+intrinsics", 1, True, False)],
)
def test_input_modes_map_to_the_official_flags(server, obs, mode, spatial, with_k, with_d):
    HTTPTracer(url=server.url, input_mode=mode, retries=0).infer(obs, "x")
    body = server.requests[-1][1]
    assert body["enable_spatial"] == spatial
    assert (body["intrinsics"] is not None) == with_k and (body["depth_z_paths"] is not None) == with_d


def test_server_down_fails_at_start():
    with pytest.raises(TracerError, match="not reachable.*start it or fix the url"):
        HTTPTracer(url=_free_port_url(), timeout_s=0.5)
    with pytest.raises(TracerError, match="not reachable"):
        OpenAICompatTracer(url=_free_port_url() + "/v1", timeout_s=0.5)
    with pytest.raises(TracerError, match="valid: rgb, rgb\\+spatial"):
        HTTPTracer(url="http://127.0.0.1:1", input_mode="depth", check_server=False)


def test_timeout_and_bounded_retries(server, obs):
    tracer = HTTPTracer(url=server.url, timeout_s=0.3, retries=1, backoff_s=0.0)
    server.script = ["slow", "slow"]
    with pytest.raises(TracerError, match="failed after 2 attempt\\(s\\): no answer within 0.3 s"):
        tracer.infer(obs, "x")
    server.script = ["500", "ok"]
    n = len(server.requests)
    assert len(tracer.infer(obs, "x").trace) == 3  # one retry recovers from a 5xx
    assert len(server.requests) - n == 2
    server.script = ["500", "500"]
    with pytest.raises(TracerError, match="failed after 2 attempt\\(s\\): HTTP 500"):
        tracer.infer(obs, "x")


@pytest.mark.parametrize(
    "what, message",
    [("garbage", "not JSON"), ("no-answer", "no text 'answer' field; keys: \\['result'\\]"), ("nonsense", "unusable answer")],
)
def test_garbage_answers_are_clear_errors(server, obs, what, message):
    server.script = [what]
    with pytest.raises(TracerError, match=message):
        HTTPTracer(url=server.url, retries=0).infer(obs, "x")


def test_openai_compatible_chat_with_inline_image(server, obs):
    tracer = make_tracer("openai", url=server.url + "/v1", timeout_s=2.0, retries=0, api_key="k")
    assert tracer.model == "robotracer-2b"  # first served model
    answer = tracer.infer(obs, "put the red block left of the plate")
    assert answer.backend == "openai" and answer.trace.points[-1].tolist() == [600.0, 512.0, 0.91]
    path, body = server.requests[-1]
    assert path == "/v1/chat/completions" and body["model"] == "robotracer-2b" and body["temperature"] == 0.0
    content = body["messages"][0]["content"]
    assert content[0]["image_url"]["url"].startswith("data:image/png;base64,")
    import base64
    import io

    png = base64.b64decode(content[0]["image_url"]["url"].split(",", 1)[1])
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), obs.rgb)
    assert content[1]["text"].startswith("Point the 3D object-centric visual trace")
    with pytest.raises(TracerError, match="does not serve model 'gpt'; served: robotracer-2b, qwen"):
        OpenAICompatTracer(url=server.url + "/v1", model="gpt")
    server.script = ["nonsense"]
    with pytest.raises(TracerError, match="openai tracer gave an unusable answer"):
        tracer.infer(obs, "x")


def test_pixel_coordinates_are_rescaled(server, obs):
    tracer = OpenAICompatTracer(url=server.url + "/v1", coordinates="pixels", retries=0)
    server.script = []
    # ANSWER read as pixels of a 64x48 image is out of range -> a clear error
    with pytest.raises(TracerError, match="outside the image range"):
        tracer.infer(obs, "x")
    server.script = ["pixels"]
    answer = tracer.infer(obs, "x")
    assert answer.trace.points.tolist() == [[500.0, 500.0, 1.0], [1000.0, 1000.0, 2.0]]
