"""What every node process shares: environment, parameter declaration, spinning, clean shutdown."""

from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Callable

from robotracer.graph import flatten_parameters


class NodeStartupError(RuntimeError):
    """A node cannot start (missing checkpoint, unreachable robot, bad parameter); the message says why."""


def configure_environment() -> None:
    """Loopback-only DDS, Fast DDS profile, headless MuJoCo — before rclpy is imported."""
    from robotracer.ros.environment import configure_ros_environment

    configure_ros_environment()


def declare_parameters(node, defaults: dict) -> dict:
    """Declare nested ``defaults`` (dotted names) once and return the flat ``{name: value}`` in force."""
    flat = flatten_parameters(defaults)
    for name, value in flat.items():
        if not node.has_parameter(name):
            node.declare_parameter(name, value)
    return {name: node.get_parameter(name).value for name in flat}


def parameters_with_prefix(node, prefix: str) -> dict:
    """All parameters under ``prefix.`` (e.g. a backend's options) as ``{name_without_prefix: value}``."""
    out = {}
    for name, param in node._parameters.items():  # rclpy has no public listing of declared parameters by prefix
        if name.startswith(prefix + "."):
            out[name[len(prefix) + 1 :]] = param.value
    return out


LOW_PRIORITY_NICE = 10


def lower_cpu_priority(node, increment: int) -> None:
    """Add ``increment`` (> 0) to this process's nice value and log it; a no-op for 0."""
    if increment > 0:
        import os

        node.get_logger().info(f"CPU priority lowered: nice {os.nice(int(increment))}")


class LowPriorityWorker:
    """One daemon thread, at a lower CPU priority (Linux: thread nice +10), that runs submitted jobs in order.

    For work after an answer has gone out (drawing and publishing visualisations): on a busy
    machine it waits for the goal's critical path instead of competing with it. Each job starts
    ``delay_s`` after it was submitted, so that the service answer that submitted it has left
    the process first (the executor needs the interpreter to send it). The thread is started
    once: a thread per job would cost its start-up inside the service callback. At most
    ``backlog`` jobs wait; a newer job then replaces the oldest waiting one.
    """

    def __init__(self, name: str = "low-priority", delay_s: float = 0.05, backlog: int = 4) -> None:
        import queue

        self.delay_s = float(delay_s)
        self._jobs: queue.Queue = queue.Queue(maxsize=max(int(backlog), 1))
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, target: Callable, *args) -> None:
        """Run ``target(*args)`` on the worker thread, ``delay_s`` from now."""
        import queue

        job = (time.monotonic() + self.delay_s, target, args)
        while True:
            try:
                self._jobs.put_nowait(job)
                return
            except queue.Full:
                try:
                    self._jobs.get_nowait()  # the oldest waiting job is dropped
                except queue.Empty:
                    pass

    def _run(self) -> None:
        try:
            import os

            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, min(os.getpriority(os.PRIO_PROCESS, tid) + LOW_PRIORITY_NICE, 19))
        except (AttributeError, OSError):  # not Linux: normal priority
            pass
        while True:
            start_at, target, args = self._jobs.get()
            wait = start_at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            try:
                target(*args)
            except Exception:  # a visualisation must not end the worker
                traceback.print_exc()


def run_node(factory: Callable[[], object], *, threads: int = 4, args: list[str] | None = None) -> int:
    """Init rclpy, build the node, spin it until Ctrl-C / SIGTERM; exit code.

    ``threads`` > 1: a ``MultiThreadedExecutor`` (callbacks may block waiting for other callbacks);
    1: a ``SingleThreadedExecutor``, several times cheaper per callback, for nodes whose callbacks
    never block waiting on the node's own executor (they may be coroutines that ``await`` it:
    :mod:`robotracer.ros.coroutines`).
    """
    configure_environment()
    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor, SingleThreadedExecutor

    rclpy.init(args=sys.argv if args is None else args)
    node = None
    try:
        node = factory()
    except NodeStartupError as exc:
        print(f"[robotracer] cannot start: {exc}", file=sys.stderr, flush=True)
        rclpy.try_shutdown()
        return 1
    except Exception:
        traceback.print_exc()
        rclpy.try_shutdown()
        return 1
    executor = MultiThreadedExecutor(num_threads=threads) if threads > 1 else SingleThreadedExecutor()
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        close = getattr(node, "close", None)
        if close:
            close()
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


class Stopwatch:
    """Per-stage wall-clock timings."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._t0 = 0.0
        self._stage = ""

    def start(self, stage: str) -> None:
        self.stop()
        self._stage, self._t0 = stage, time.perf_counter()

    def stop(self) -> None:
        if self._stage:
            self.timings[self._stage] = self.timings.get(self._stage, 0.0) + time.perf_counter() - self._t0
            self._stage = ""
