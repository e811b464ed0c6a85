"""`pip wheel` of this repository (isolated build, pyproject's build requirements), the
wheel installed into a fresh venv with nothing sourced: interfaces import, share files
and node launchers are in the prefix, and a Trace action round trip crosses processes."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from _repo_copy import PROBE_NODE, copy_repository, venv_prefix

pytestmark = pytest.mark.slow

SERVER = r'''
import sys
from robotracer.ros.environment import configure_ros_environment
configure_ros_environment()
import rclpy
from rclpy.action import ActionServer
from robotracer.action import Trace

def execute(goal_handle):
    feedback = Trace.Feedback(stage="infer", progress=0.5)
    goal_handle.publish_feedback(feedback)
    goal_handle.succeed()
    return Trace.Result(success=True, reason="", raw_answer="echo: " + goal_handle.request.instruction)

rclpy.init()
node = rclpy.create_node("wheel_probe_server")
server = ActionServer(node, Trace, sys.argv[1], execute)
print("ready", flush=True)
try:
    rclpy.spin(node)
except KeyboardInterrupt:
    pass
'''

CLIENT = r'''
import sys, time
from robotracer.ros.environment import configure_ros_environment
configure_ros_environment()
import rclpy
from rclpy.action import ActionClient
from robotracer.action import Trace

rclpy.init()
node = rclpy.create_node("wheel_probe_client")
client = ActionClient(node, Trace, sys.argv[1])
if not client.wait_for_server(timeout_sec=30.0):
    sys.exit("no action server")
stages = []
future = client.send_goal_async(Trace.Goal(instruction="put the cup left of the plate"),
                                feedback_callback=lambda f: stages.append(f.feedback.stage))
rclpy.spin_until_future_complete(node, future, timeout_sec=30.0)
handle = future.result()
assert handle is not None and handle.accepted, "goal not accepted"
result_future = handle.get_result_async()
rclpy.spin_until_future_complete(node, result_future, timeout_sec=30.0)
result = result_future.result().result
print("result", result.success, repr(result.raw_answer), stages, flush=True)
'''


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pip_wheel")
    source = copy_repository(tmp / "robotracer")
    dist = tmp / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(source)],
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    (wheel,) = dist.glob("robotracer-*.whl")
    tmp.joinpath("wheel.txt").write_text(str(wheel))

    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    install = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                              "--no-deps", str(wheel)], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-4000:]
    # The dependencies (ROS wheels, numpy, ...) are reused from this venv rather than
    # downloaded again: a plain path entry, so none of this venv's .pth hooks (such as a
    # development install of robotracer) apply.
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "zz_reuse_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return venv


def _fresh_env(venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AMENT_", "COLCON_", "FASTDDS_", "FASTRTPS_", "RMW_", "ROS_", "_ROS_WHEELS"))
           and k not in ("PYTHONPATH", "LD_LIBRARY_PATH", "VIRTUAL_ENV", "CMAKE_PREFIX_PATH")}
    # What the ROS wheels' start-up hook (ros_wheels_bootstrapper) adds in a venv that
    # holds them itself: the prefix's lib/ (here: robotracer's interface libraries) and
    # the wheels' vendored ros_*.libs, here those of the reused venv.
    reused_site = Path(sysconfig.get_path("purelib"))
    libs = [venv / "lib", venv_prefix() / "lib", *sorted(reused_site.glob("ros_*.libs"))]
    env["LD_LIBRARY_PATH"] = os.pathsep.join(map(str, libs))
    env["_ROS_WHEELS_BOOTSTRAP_COMPLETE"] = "1"
    env["AMENT_PREFIX_PATH"] = str(venv_prefix())  # where the reused message packages are indexed
    env["ROS_DOMAIN_ID"] = str(random.randint(120, 230))  # away from other tests on this machine
    return env


def test_wheel_is_a_cp311_platform_wheel_with_interfaces_share_and_launchers(fresh_venv):
    wheel = Path(fresh_venv.parent.joinpath("wheel.txt").read_text())
    assert wheel.name.endswith("-cp311-cp311-linux_x86_64.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        data = "robotracer-" + wheel.name.split("-")[1] + ".data/data/"
        for required in ("robotracer/msg/__init__.py", "robotracer/action/_trace.py", "robotracer/srv/_infer_trace.py",
                         "robotracer/ros/environment.py", "robotracer/cli/main.py",
                         data + "share/ament_index/resource_index/packages/robotracer",
                         data + "share/robotracer/package.xml",
                         data + "share/robotracer/config/fastdds_loopback.xml",
                         data + "lib/librobotracer__rosidl_typesupport_c.so",
                         data + f"lib/robotracer/{PROBE_NODE}"):
            assert required in names, f"{required} missing from {wheel.name}"
        assert any(n.startswith("robotracer/robotracer_s__rosidl_typesupport_c") and n.endswith(".so") for n in names)
        assert "__version__" in archive.read("robotracer/__init__.py").decode()
        assert not any(n.endswith(".c") for n in names if n.startswith("robotracer/"))


def test_interfaces_import_in_the_fresh_venv_with_nothing_sourced(fresh_venv, tmp_path):
    code = ("import robotracer; from robotracer.action import Trace; from robotracer.srv import InferTrace; "
            "from robotracer.msg import SpatialTrace; from robotracer.ros.environment import package_share_dir; "
            "print(robotracer.__file__); print(package_share_dir())")
    result = subprocess.run([str(fresh_venv / "bin" / "python"), "-c", code], cwd=tmp_path,
                            env=_fresh_env(fresh_venv), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    module, share = result.stdout.strip().splitlines()[-2:]
    assert Path(module).is_relative_to(fresh_venv)
    assert Path(share) == fresh_venv / "share" / "robotracer"


def test_node_launcher_uses_the_venv_interpreter(fresh_venv, tmp_path):
    launcher = fresh_venv / "lib" / "robotracer" / PROBE_NODE
    assert os.access(launcher, os.X_OK)
    result = subprocess.run([str(launcher)], cwd=tmp_path, env=_fresh_env(fresh_venv),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.split()[1].startswith(str(fresh_venv))


def test_console_script(fresh_venv, tmp_path):
    result = subprocess.run([str(fresh_venv / "bin" / "robotracer"), "--help"], cwd=tmp_path,
                            env=_fresh_env(fresh_venv), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "usage: robotracer" in result.stdout


def test_trace_action_round_trip_between_two_processes(fresh_venv, tmp_path):
    python = str(fresh_venv / "bin" / "python")
    env = _fresh_env(fresh_venv)
    action = f"wheel_probe_trace_{os.getpid()}"
    (tmp_path / "server.py").write_text(SERVER)
    (tmp_path / "client.py").write_text(CLIENT)
    server = subprocess.Popen([python, "server.py", action], cwd=tmp_path, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "ready", server.stderr.read()
        client = subprocess.run([python, "client.py", action], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert client.returncode == 0, client.stderr[-4000:]
    assert "result True 'echo: put the cup left of the plate' ['infer']" in client.stdout
