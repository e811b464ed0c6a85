"""Per-frame work done ahead of goals: the newest frame only, results by key, waiting while one is in progress."""

import threading
import time

from robotracer.pipeline.frame_preparer import FramePreparer


def test_an_offered_frame_is_prepared_in_the_background_and_kept_by_key():
    done = threading.Event()

    def prepare(frame):
        done.set()
        return frame * 10

    preparer = FramePreparer(prepare, keep=2)
    try:
        preparer.offer("a", 1)
        assert done.wait(5.0)
        assert preparer.result("a", timeout=5.0) == 10
        for count, (key, value) in enumerate((("b", 2), ("c", 3)), start=2):
            preparer.offer(key, value)
            deadline = time.monotonic() + 5.0
            while preparer.prepared < count and time.monotonic() < deadline:  # (result() would withdraw it)
                time.sleep(0.01)
        assert preparer.result("c", 0.0) == 30 and preparer.result("b", 0.0) == 20
        assert preparer.result("a", 0.0) is None  # only the last two are kept
        assert preparer.result("never offered", 1.0) is None
    finally:
        preparer.close()


def test_a_goal_waits_for_the_frame_being_prepared_and_takes_over_one_still_waiting():
    started, release = threading.Event(), threading.Event()
    calls = []

    def prepare(frame):
        calls.append(frame)
        if frame == "slow":
            started.set()
            release.wait(5.0)
        return frame.upper()

    preparer = FramePreparer(prepare)
    try:
        preparer.offer(1, "slow")
        assert started.wait(5.0)
        preparer.offer(2, "queued")  # waits behind the slow one
        preparer.offer(3, "newest")  # replaces the waiting one: only the newest frame is prepared
        assert preparer.result(3, 0.0) is None  # withdrawn: the caller does it itself
        threading.Timer(0.1, release.set).start()
        t0 = time.monotonic()
        assert preparer.result(1, 5.0) == "SLOW"  # in progress: waited for
        assert time.monotonic() - t0 >= 0.05
        time.sleep(0.1)
        assert calls == ["slow"]  # neither 2 (replaced) nor 3 (withdrawn) was prepared
    finally:
        preparer.close()


def test_a_failing_preparation_means_not_prepared():
    failed = threading.Event()

    def prepare(frame):
        failed.set()
        raise RuntimeError("no table")

    preparer = FramePreparer(prepare)
    try:
        preparer.offer("x", 0)
        assert failed.wait(5.0)
        time.sleep(0.05)
        assert preparer.result("x", 0.5) is None
        assert preparer.prepared == 0
    finally:
        preparer.close()
