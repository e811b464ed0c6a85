"""Run a robot's node graph as separate processes — ``ros2 launch`` for machines without ``launch``.

Each node of ``config/<robot>.yaml`` runs as ``python -m robotracer.ros.nodes.<executable>
--ros-args -r __node:=<name> --params-file <file>``, with the same parameters
``launch/<robot>.launch.py`` passes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TextIO

import yaml

from robotracer.graph import GraphSpec, NodeSpec


def node_command(node: NodeSpec, params_file: Path) -> list[str]:
    return [
        sys.executable, "-u", "-m", node.module,
        "--ros-args", "-r", f"__node:={node.name}", "--params-file", str(params_file),
    ]


def graph_environment(base: dict | None = None) -> dict:
    """The environment every node gets: loopback DDS, Fast DDS profile, headless MuJoCo."""
    from robotracer.ros.environment import configure_ros_environment

    env = dict(os.environ if base is None else base)
    saved = dict(os.environ)
    try:
        os.environ.clear()
        os.environ.update(env)
        configure_ros_environment()
        return dict(os.environ)
    finally:
        os.environ.clear()
        os.environ.update(saved)


class ProcessGraph:
    """Start, watch and stop the node processes of a graph (context manager)."""

    def __init__(
        self,
        graph: GraphSpec,
        *,
        env: dict | None = None,
        output: TextIO | None = sys.stdout,
        log_dir: Path | None = None,
    ) -> None:
        self.graph = graph
        self.env = graph_environment(env)
        self.output = output  # None = quiet (use log_dir to keep the logs)
        self.log_dir = Path(log_dir) if log_dir else None
        self.procs: dict[str, subprocess.Popen] = {}
        self._tmp = tempfile.TemporaryDirectory(prefix="robotracer-graph-")
        self._threads: list[threading.Thread] = []
        self._out_lock = threading.Lock()

    def __enter__(self) -> "ProcessGraph":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if self.log_dir:
            self.log_dir.mkdir(parents=True, exist_ok=True)
        for node in self.graph.nodes:
            params = Path(self._tmp.name) / f"{node.name}.yaml"
            params.write_text(yaml.safe_dump(node.params_file_content(), sort_keys=False))
            proc = subprocess.Popen(
                node_command(node, params), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True, text=True, bufsize=1,
            )
            self.procs[node.name] = proc
            t = threading.Thread(target=self._pump, args=(node.name, proc), daemon=True)
            t.start()
            self._threads.append(t)

    def _pump(self, name: str, proc: subprocess.Popen) -> None:
        log = open(self.log_dir / f"{name}.log", "w") if self.log_dir else None
        try:
            for line in proc.stdout:
                if log:
                    log.write(line)
                    log.flush()
                if self.output is not None:
                    with self._out_lock:
                        self.output.write(f"[{name}] {line}")
                        self.output.flush()
        finally:
            if log:
                log.close()

    def dead(self) -> dict[str, int]:
        """Nodes that exited, with their exit codes."""
        return {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}

    def wait(self) -> int:
        """Block until a node exits or Ctrl-C; returns 0 for Ctrl-C, 1 if a node died."""
        try:
            while True:
                dead = self.dead()
                if dead:
                    for n, code in dead.items():
                        print(f"[robotracer] node '{n}' exited with code {code}; stopping the graph", file=sys.stderr)
                    return 1
                time.sleep(0.2)
        except KeyboardInterrupt:
            return 0

    def stop(self, timeout_s: float = 8.0) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            alive = [p for p in self.procs.values() if p.poll() is None]
            if not alive:
                break
            for p in alive:
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + (timeout_s if sig == signal.SIGINT else 2.0)
            while time.monotonic() < deadline and any(p.poll() is None for p in alive):
                time.sleep(0.05)
        for t in self._threads:
            t.join(timeout=1.0)
        self._tmp.cleanup()
