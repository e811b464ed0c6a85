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


def test_low_priority_work_runs_niced_and_the_caller_keeps_its_priority():
    import os
    import threading

    from robotracer.ros.node_runtime import LOW_PRIORITY_NICE, start_low_priority

    seen = {}

    def work(tag):
        seen[tag] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    start_low_priority(work, "viz").join(5.0)
    assert seen["viz"] == min(before + LOW_PRIORITY_NICE, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_wait_for_service_returns_as_soon_as_the_service_appears_and_times_out_otherwise():
    import threading
    import time

    from robotracer.ros.node_runtime import wait_for_service

    class Context:
        def ok(self):
            return True

    class Client:
        context = Context()
        ready = False

        def service_is_ready(self):
            return self.ready

    client = Client()
    threading.Timer(0.05, lambda: setattr(client, "ready", True)).start()
    t0 = time.monotonic()
    assert wait_for_service(client, 5.0)
    assert time.monotonic() - t0 < 0.2  # not rclpy's 0.25 s polling
    assert not wait_for_service(Client(), 0.05)
