"""Work done on each camera frame as it arrives, so that a goal finds its frame's result ready.

A tracer whose per-frame work (finding the objects, fitting the table) does not depend on the
instruction can do it between goals: a goal then pays only for the instruction-specific part.
Only the newest frame is prepared; results are kept for the last few frames by key (the
frame's stamp).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

FrameT = TypeVar("FrameT")
ResultT = TypeVar("ResultT")


class FramePreparer(Generic[FrameT, ResultT]):
    """Runs ``prepare(frame)`` on a background thread for the newest offered frame.

    ``offer(key, frame)`` is cheap (it stores the frame and wakes the thread): call it from a
    subscription callback. A frame offered while the thread is busy replaces any frame still
    waiting. ``result(key, timeout)`` answers a prepared result, waits while that very frame is
    being prepared, and otherwise answers None: the caller then does the work itself (a frame
    still waiting is withdrawn, so it is not prepared twice). ``prepare`` raising, or returning
    None, means "not prepared".
    """

    def __init__(self, prepare: Callable[[FrameT], ResultT], keep: int = 3, name: str = "frame-preparer") -> None:
        self._prepare = prepare
        self._keep = max(int(keep), 1)
        self._cond = threading.Condition()
        self._waiting: tuple[Hashable, FrameT] | None = None
        self._running: Hashable | None = None
        self._done: OrderedDict[Hashable, ResultT] = OrderedDict()
        self._closed = False
        self.prepared = 0  # frames prepared so far
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def offer(self, key: Hashable, frame: FrameT) -> None:
        """Prepare ``frame`` (named ``key``) next, unless it is prepared or being prepared already."""
        with self._cond:
            if self._closed or key in self._done or key == self._running:
                return
            if self._waiting is not None and self._waiting[0] == key:
                return
            self._waiting = (key, frame)
            self._cond.notify_all()

    def result(self, key: Hashable, timeout: float) -> ResultT | None:
        """The prepared result for ``key``; waits up to ``timeout`` s while it is being prepared; else None."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                if key in self._done:
                    return self._done[key]
                if self._waiting is not None and self._waiting[0] == key:
                    self._waiting = None  # not started: the caller does it now
                    return None
                remaining = deadline - time.monotonic()
                if key != self._running or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=1.0)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._waiting is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                key, frame = self._waiting
                self._waiting, self._running = None, key
            try:
                value = self._prepare(frame)
            except Exception:  # the caller will do the work itself and see the error there
                traceback.print_exc()
                value = None
            with self._cond:
                self._running = None
                if value is not None:
                    self._done[key] = value
                    self.prepared += 1
                    while len(self._done) > self._keep:
                        self._done.popitem(last=False)
                self._cond.notify_all()
