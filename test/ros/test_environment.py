import os
import subprocess
import sys
from pathlib import Path

from robotracer.ros.environment import configure_ros_environment, package_share_dir


def test_environment_is_loopback_with_the_profile_and_imports_no_ros(monkeypatch):
    for var in ("ROS_AUTOMATIC_DISCOVERY_RANGE", "FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "SUBNET")
    configure_ros_environment()
    assert os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    profile = Path(os.environ["FASTDDS_DEFAULT_PROFILES_FILE"])
    assert profile.name == "fastdds_loopback.xml" and profile.exists()
    text = profile.read_text()
    assert "33554432" in text and "<useBuiltinTransports>false</useBuiltinTransports>" in text and "127.0.0.1" in text
    assert configure_ros_environment() == {}  # idempotent
    code = "import sys; import robotracer.ros.environment as e; e.configure_ros_environment(); print('rclpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_share_dir_holds_config_and_launch():
    share = Path(package_share_dir())
    assert (share / "config" / "ur5.yaml").exists() and (share / "launch" / "ur5.launch.py").exists()


def test_low_priority_worker_runs_jobs_niced_in_order_after_the_delay_and_keeps_the_caller_priority():
    import os
    import threading
    import time

    from robotracer.ros.node_runtime import LOW_PRIORITY_NICE, LowPriorityWorker

    seen, done = [], threading.Event()

    def work(tag):
        seen.append((tag, os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), time.monotonic()))
        if tag == "second":
            done.set()

    def broken():
        raise RuntimeError("a failing job")

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    worker = LowPriorityWorker("test_visuals", delay_s=0.1)
    t0 = time.monotonic()
    worker.submit(work, "first")
    worker.submit(broken)  # must not stop the worker
    worker.submit(work, "second")
    assert done.wait(5.0)
    assert [tag for tag, _, _ in seen] == ["first", "second"]
    assert all(nice == min(before + LOW_PRIORITY_NICE, 19) for _, nice, _ in seen)
    assert seen[0][2] - t0 >= 0.09  # not before the delay
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_low_priority_worker_drops_the_oldest_waiting_job_when_its_backlog_is_full():
    import threading

    from robotracer.ros.node_runtime import LowPriorityWorker

    started, release, seen, done = threading.Event(), threading.Event(), [], threading.Event()

    def block():
        started.set()
        release.wait(5.0)

    worker = LowPriorityWorker("test_backlog", delay_s=0.0, backlog=2)
    worker.submit(block)  # occupies the thread
    assert started.wait(5.0)
    for tag in ("a", "b", "c"):
        worker.submit(seen.append, tag)
    worker.submit(done.set)
    release.set()
    assert done.wait(5.0)
    assert seen == ["c"]  # a and b were the oldest waiting when c and the last job came
