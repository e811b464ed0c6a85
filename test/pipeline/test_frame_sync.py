import pytest

from robotracer.pipeline.frame_sync import FrameSynchronizer, frame_age


def test_newest_complete_stamp_wins_and_optional_streams_attach():
    sync = FrameSynchronizer(["rgb", "depth"], optional=["seg"])
    sync.add("rgb", 1.0, "rgb1")
    assert sync.latest() is None  # depth missing
    sync.add("depth", 1.0, "depth1")
    sync.add("rgb", 2.0, "rgb2")  # incomplete newer frame does not replace the complete one
    f = sync.latest()
    assert f.stamp == 1.0 and f["rgb"] == "rgb1" and f.get("seg") is None
    sync.add("seg", 1.0, "seg1")
    assert sync.latest()["seg"] == "seg1"
    sync.add("depth", 2.0, "depth2")
    assert sync.latest()["depth"] == "depth2"


def test_mismatched_stamps_never_pair():
    sync = FrameSynchronizer(["rgb", "depth"])
    sync.add("rgb", 1.0, "a")
    sync.add("depth", 1.01, "b")
    assert sync.latest() is None


def test_unknown_stream_is_an_error():
    with pytest.raises(KeyError, match="streams: rgb, depth"):
        FrameSynchronizer(["rgb", "depth"]).add("ir", 0.0, None)


def test_age_by_clock_and_by_wall_time():
    sync = FrameSynchronizer(["rgb"])
    assert frame_age(sync.latest(), 5.0).clock_s == float("inf")
    sync.add("rgb", 10.0, "x")
    f = sync.latest()
    fresh = frame_age(f, 10.2, now_wall=f.received_wall + 0.1)
    assert fresh.clock_s == pytest.approx(0.2) and fresh.stale_reason(1.0, 5.0) == ""
    old = frame_age(f, 11.5, now_wall=f.received_wall + 0.1)
    assert "no camera frame for 1.5 s" in old.stale_reason(1.0, 5.0)
    # the publisher's clock stopped (sim died) but the wall clock runs on
    dead = frame_age(f, 10.0, now_wall=f.received_wall + 6.0)
    assert "stopped publishing" in dead.stale_reason(1.0, 5.0)


def test_prefer_takes_the_newest_frame_that_carries_the_optional_stream():
    sync = FrameSynchronizer(["rgb", "depth"], optional=["seg"])
    for stamp in (1.0, 2.0):
        sync.add("rgb", stamp, f"rgb{stamp}")
        sync.add("depth", stamp, f"depth{stamp}")
    sync.add("seg", 1.0, "seg1")  # segmentation of 2.0 still in flight
    assert sync.latest().stamp == 2.0 and sync.latest().get("seg") is None
    f = sync.latest(prefer=("seg",))
    assert f.stamp == 1.0 and f["seg"] == "seg1" and f["rgb"] == "rgb1.0"
    sync.add("seg", 2.0, "seg2")
    assert sync.latest(prefer=("seg",))["seg"] == "seg2"
    # no frame carries the preferred stream: the newest complete one
    bare = FrameSynchronizer(["rgb"], optional=["seg"])
    bare.add("rgb", 3.0, "x")
    assert bare.latest(prefer=("seg",)).stamp == 3.0


def test_wait_for_a_stamp_returns_once_its_streams_arrive():
    import threading

    sync = FrameSynchronizer(["rgb", "depth"], optional=["seg"])
    sync.add("rgb", 1.0, "rgb1")
    assert sync.wait_for(1.0, timeout=0.05) is None  # depth never came
    later = threading.Timer(0.05, lambda: (sync.add("depth", 1.0, "depth1"), sync.add("seg", 1.0, "seg1")))
    later.start()
    f = sync.wait_for(1.0, timeout=5.0, prefer=("seg",))
    later.join()
    assert f.stamp == 1.0 and f["depth"] == "depth1" and f["seg"] == "seg1"
    # the preferred stream is waited for only until the timeout; the frame comes without it
    sync.add("rgb", 2.0, "rgb2")
    sync.add("depth", 2.0, "depth2")
    f2 = sync.wait_for(2.0, timeout=0.05, prefer=("seg",))
    assert f2["rgb"] == "rgb2" and f2.get("seg") is None
    assert sync.wait_for(7.0, timeout=0.01) is None  # a stamp that never existed


def test_wait_for_forgets_stamps_older_than_the_kept_ones():
    sync = FrameSynchronizer(["rgb"], keep=2)
    for stamp in (1.0, 2.0, 3.0):
        sync.add("rgb", stamp, stamp)
    assert sync.wait_for(1.0, timeout=0.0) is None
    assert sync.wait_for(3.0, timeout=0.0)["rgb"] == 3.0
