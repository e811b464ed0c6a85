"""``robotracer estop``: the latched /estop message reaches a listening controller; no listener is said."""

import os
import subprocess
import sys
import time

import pytest

pytest.importorskip("robotracer.msg", reason="ROS interfaces not built")


def _estop_cli(*args: str, domain: int) -> subprocess.CompletedProcess:
    env = dict(os.environ, ROS_DOMAIN_ID=str(domain))
    return subprocess.run([sys.executable, "-m", "robotracer.cli.main", "estop", *args], env=env, capture_output=True, text=True, timeout=120)


def test_estop_command_engages_and_releases_a_listening_controller():
    domain = 150 + os.getpid() % 50
    os.environ["ROS_DOMAIN_ID"] = str(domain)
    from robotracer.ros.node_runtime import configure_environment

    configure_environment()
    import rclpy

    from robotracer.ros.estop import EStopListener
    from robotracer.ros.trace_client import spin_in_background

    rclpy.init()
    node = rclpy.create_node("estop_listener_test")
    engaged_calls = []
    listener = EStopListener(node, on_engage=lambda: engaged_calls.append(time.monotonic()))
    executor = spin_in_background(node)
    try:
        out = _estop_cli(domain=domain)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "e-stop engaged (1 listener" in out.stdout
        deadline = time.monotonic() + 10
        while not listener.engaged and time.monotonic() < deadline:
            time.sleep(0.05)
        assert listener.engaged and len(engaged_calls) == 1
        out = _estop_cli("--release", domain=domain)
        assert out.returncode == 0 and "released" in out.stdout
        deadline = time.monotonic() + 10
        while listener.engaged and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not listener.engaged
    finally:
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
        rclpy.try_shutdown()
    lonely = _estop_cli("--wait", "0.5", domain=domain + 1)
    assert lonely.returncode == 1 and "no controller is listening" in lonely.stdout
