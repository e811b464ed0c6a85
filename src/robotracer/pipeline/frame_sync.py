"""Pair camera streams by stamp and say how old the newest complete frame is."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True)
class SyncedFrame:
    """One capture: every required stream's message with the same stamp."""

    stamp: float  # capture time (the publisher's clock), seconds
    received_wall: float  # time.monotonic() when the set became complete
    parts: dict  # stream name -> message

    def __getitem__(self, key: str):
        return self.parts[key]

    def get(self, key: str, default=None):
        return self.parts.get(key, default)


class FrameSynchronizer:
    """Collects messages of several streams keyed by stamp; the newest stamp with all required streams wins.

    ``optional`` streams are attached when a message with the same stamp arrived, else left out.
    Thread-safe: subscription callbacks may call :meth:`add` concurrently.
    """

    def __init__(self, required: list[str], optional: list[str] = (), keep: int = 8) -> None:
        self.required = list(required)
        self.optional = list(optional)
        self.keep = keep
        self._pending: OrderedDict[float, dict] = OrderedDict()
        self._latest: SyncedFrame | None = None
        self._complete_wall: dict[float, float] = {}  # stamp -> when its required streams were all in
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)

    def add(self, stream: str, stamp: float, msg) -> None:
        if stream not in self.required and stream not in self.optional:
            raise KeyError(f"unknown stream {stream!r}; streams: {', '.join(self.required + list(self.optional))}")
        with self._lock:
            parts = self._pending.setdefault(stamp, {})
            parts[stream] = msg
            while len(self._pending) > self.keep:
                old, _ = self._pending.popitem(last=False)
                self._complete_wall.pop(old, None)
            if all(s in parts for s in self.required):
                now = self._complete_wall.setdefault(stamp, time.monotonic())
                if self._latest is None or stamp >= self._latest.stamp:
                    self._latest = SyncedFrame(stamp, now, dict(parts))
            self._arrived.notify_all()

    def latest(self, prefer: tuple[str, ...] = ()) -> SyncedFrame | None:
        """The newest complete frame, with any optional stream that has arrived for its stamp since.

        ``prefer``: optional streams to have too — the newest recent complete frame that carries
        them wins over a newer one whose optional messages are still in flight (streams arrive
        on separate subscriptions, in any order); without such a frame, the newest complete one.
        """
        with self._lock:
            if self._latest is None:
                return None
            if prefer:
                for stamp in sorted(self._pending, reverse=True):
                    parts = self._pending[stamp]
                    if stamp <= self._latest.stamp and all(s in parts for s in (*self.required, *prefer)):
                        return SyncedFrame(stamp, self._complete_wall.get(stamp, self._latest.received_wall), dict(parts))
            parts = dict(self._pending.get(self._latest.stamp, self._latest.parts))
            return SyncedFrame(self._latest.stamp, self._latest.received_wall, parts)


    def wait_for(self, stamp: float, timeout: float, prefer: tuple[str, ...] = ()) -> SyncedFrame | None:
        """The complete frame captured at ``stamp``, waiting up to ``timeout`` seconds for it to arrive.

        ``prefer``: optional streams to wait for too (within the same ``timeout``); the frame is
        returned without them when they do not come. None when the frame is not complete in time
        (dropped on the way, or older than the ``keep`` newest stamps).
        """
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                parts = self._pending.get(stamp)
                complete = parts is not None and all(s in parts for s in self.required)
                if complete and all(s in parts for s in prefer):
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    if not complete:
                        return None
                    break
                self._arrived.wait(remaining)
            return SyncedFrame(stamp, self._complete_wall.get(stamp, time.monotonic()), dict(parts))


@dataclass(frozen=True)
class FrameAge:
    """How old a frame is by the publisher's clock (sim time in simulation) and by the wall clock."""

    clock_s: float
    wall_s: float

    def stale_reason(self, max_clock_s: float, max_wall_s: float) -> str:
        """Empty when fresh; otherwise the user-facing reason."""
        if self.clock_s > max_clock_s:
            return f"no camera frame for {self.clock_s:.1f} s (limit {max_clock_s:.1f} s): camera stale"
        if self.wall_s > max_wall_s:
            return (
                f"no camera frame for {self.wall_s:.1f} s of wall time (limit {max_wall_s:.1f} s): "
                "the camera (or simulator) stopped publishing"
            )
        return ""


def frame_age(frame: SyncedFrame | None, now_stamp: float, now_wall: float | None = None) -> FrameAge:
    """Seconds since the frame was captured (publisher clock) and since it was received (wall clock).

    Both matter: a simulator that stops also stops its clock, so only the wall clock notices;
    a simulator slower than real time publishes slowly in wall time but on time in its own.
    """
    if frame is None:
        return FrameAge(float("inf"), float("inf"))
    now_wall = time.monotonic() if now_wall is None else now_wall
    return FrameAge(now_stamp - frame.stamp, now_wall - frame.received_wall)
