"""The G1 head camera rendered in a process of its own, so the 500 Hz physics loop keeps its core.

The physics side hands over the state to draw (``qpos`` and the simulation time, a few hundred
bytes); the worker holds its own copy of the scene and its own GL context, runs the position
kinematics (``mj_fwdPosition``) and renders RGB, depth and segmentation with
:func:`robotracer.sim.camera.render_frame`; the frame comes back through shared memory. One render
is in flight at a time: :meth:`HeadCameraProcess.submit` either waits for the previous one or
reports the camera busy.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
from multiprocessing.shared_memory import SharedMemory
from typing import Callable

import numpy as np

from robotracer.sim.camera import CameraFrame
from robotracer.sim.g1.scene import G1Scene, G1SceneConfig


def _frame_arrays(buf, height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """RGB ``(H, W, 3)`` uint8, depth ``(H, W)`` float32 and segmentation ``(H, W)`` uint16 views of ``buf``."""
    n = height * width
    depth = np.ndarray((height, width), np.float32, buf, 0)
    rgb = np.ndarray((height, width, 3), np.uint8, buf, 4 * n)
    seg = np.ndarray((height, width), np.uint16, buf, 7 * n)
    return rgb, depth, seg


def _serve(config: G1SceneConfig, shm_name: str, requests, replies, render_threads: int | None) -> None:
    """Worker: render each ``(qpos, time)`` request into shared memory and reply ``time`` (or the error)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the physics process; it stops this one
    if render_threads:
        os.environ["LP_NUM_THREADS"] = str(render_threads)  # Mesa llvmpipe threads, read when EGL starts
    os.environ.setdefault("MUJOCO_GL", "egl")
    import mujoco

    from robotracer.sim.g1.camera import HeadCamera
    from robotracer.sim.g1.scene import build_scene

    shm = SharedMemory(name=shm_name)
    rgb = depth = seg = None
    try:
        scene = build_scene(config)
        data = mujoco.MjData(scene.model)
        with HeadCamera(scene) as camera:
            h, w = camera.intrinsics.height, camera.intrinsics.width
            rgb, depth, seg = _frame_arrays(shm.buf, h, w)
            replies.send(("ready", scene.model.nq, scene.model.ngeom))
            while True:
                try:
                    request = requests.recv()
                except EOFError:
                    break
                if request is None:
                    break
                qpos, stamp = request
                try:
                    data.qpos[:] = qpos
                    data.time = stamp
                    mujoco.mj_fwdPosition(scene.model, data)
                    frame = camera.render(data)
                    rgb[...], depth[...], seg[...] = frame.rgb, frame.depth, frame.segmentation
                    replies.send(("frame", stamp))
                except Exception as exc:  # reported to the physics side
                    replies.send(("error", f"{type(exc).__name__}: {exc}"))
    except Exception as exc:
        replies.send(("error", f"the head camera process failed to start: {type(exc).__name__}: {exc}"))
    finally:
        del rgb, depth, seg
        shm.close()


class HeadCameraProcess:
    """Renders a G1 scene's head camera in a worker process.

    Args:
        scene: the physics side's scene (the worker builds the same one from ``scene.config``).
        on_frame: called with each :class:`~robotracer.sim.camera.CameraFrame` (stamped with the
            simulation time of the state it shows) in this object's receiver thread.
        render_threads: Mesa llvmpipe threads of the worker (None: Mesa's default, one per CPU).
        start_timeout: seconds to wait for the worker to build the scene and its GL context.
    """

    def __init__(
        self,
        scene: G1Scene,
        on_frame: Callable[[CameraFrame], None] | None = None,
        render_threads: int | None = None,
        start_timeout: float = 120.0,
    ) -> None:
        from robotracer.sim.g1.camera import head_camera_intrinsics, segmentation_labels

        self.intrinsics = head_camera_intrinsics()
        self.labels = segmentation_labels(scene)[0]
        self.on_frame = on_frame
        self._model_size = (scene.model.nq, scene.model.ngeom)
        self._receiver: threading.Thread | None = None
        h, w = self.intrinsics.height, self.intrinsics.width
        self._shm = SharedMemory(create=True, size=9 * h * w)
        self._rgb, self._depth, self._seg = _frame_arrays(self._shm.buf, h, w)
        ctx = mp.get_context("spawn")  # a fresh interpreter: no inherited DDS threads or GL state
        child_requests, self._requests = ctx.Pipe(duplex=False)  # (reader, writer)
        self._replies, child_replies = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(
            target=_serve, args=(scene.config, self._shm.name, child_requests, child_replies, render_threads),
            name="g1-head-camera", daemon=True,
        )  # fmt: skip
        self._proc.start()
        child_requests.close()
        child_replies.close()
        self._idle = threading.Event()
        self._latest: CameraFrame | None = None
        self._error: str | None = None
        self.frames = 0
        try:
            if not self._requests_ready(start_timeout):
                raise RuntimeError(f"the head camera process did not start within {start_timeout:.0f} s")
        except Exception:
            self.close()
            raise
        self._idle.set()
        self._receiver = threading.Thread(target=self._receive, name="g1-head-camera-frames", daemon=True)
        self._receiver.start()

    def _requests_ready(self, timeout: float) -> bool:
        if not self._replies.poll(timeout):
            return False
        reply = self._replies.recv()
        if reply[0] == "error":
            raise RuntimeError(reply[1])
        if reply[1:] != self._model_size:
            raise RuntimeError(f"the head camera process built another model (nq, ngeom {reply[1:]}, expected {self._model_size})")
        return True

    def _receive(self) -> None:
        while True:
            try:
                reply = self._replies.recv()
            except (EOFError, OSError):
                self._error = "the head camera process exited"
                self._idle.set()  # a submit() waiting for a frame raises instead of waiting forever
                break
            if reply[0] == "error":
                self._error = reply[1]
                self._idle.set()
                continue
            frame = CameraFrame(self._rgb.copy(), self._depth.copy(), self._seg.copy(), dict(self.labels), reply[1])
            self._latest = frame
            self.frames += 1
            self._idle.set()
            if self.on_frame is not None:
                self.on_frame(frame)

    @property
    def busy(self) -> bool:
        """Whether a frame is being rendered."""
        return not self._idle.is_set()

    def submit(self, data, wait: float | None = None) -> bool:
        """Render the state in ``data`` (an ``MjData`` of the physics scene, read now: call it between steps).

        Waits up to ``wait`` seconds (None: as long as it takes) for the previous frame; returns False
        if the camera is still busy then (nothing submitted).
        """
        if not self._idle.wait(wait):
            return False
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"head camera process: {error}")
        self._idle.clear()
        self._requests.send((np.array(data.qpos), float(data.time)))
        return True

    def render(self, data, timeout: float = 30.0) -> CameraFrame:
        """Render ``data`` and wait for its frame (for callers without their own pipeline)."""
        self.submit(data)
        if not self._idle.wait(timeout):
            raise TimeoutError(f"the head camera process rendered no frame within {timeout:.0f} s")
        if self._error is not None:
            error, self._error = self._error, None
            raise RuntimeError(f"head camera process: {error}")
        return self._latest

    def close(self) -> None:
        """Stop the worker and free the shared memory."""
        try:
            self._requests.send(None)
        except (OSError, ValueError):
            pass
        self._proc.join(5.0)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5.0)
        if self._receiver is not None:
            self._receiver.join(5.0)  # ends when the worker's end of the pipe closes
        self._requests.close()
        self._replies.close()
        self._rgb = self._depth = self._seg = None
        self._shm.close()
        self._shm.unlink()

    def __enter__(self) -> "HeadCameraProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
