"""robotracer.ros.environment: the variables every ROS entry point sets (no ROS needed)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from robotracer.ros import environment
from robotracer.ros.environment import configure_ros_environment, fastdds_profile_path, package_share_dir

REPO = Path(__file__).resolve().parents[2]


def test_sets_loopback_rmw_profile_and_mujoco_gl_on_an_empty_environment():
    env: dict[str, str] = {}
    changed = configure_ros_environment(env)
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    assert env["RMW_IMPLEMENTATION"] == "rmw_fastrtps_cpp"
    assert env["MUJOCO_GL"] == "egl"
    profile = Path(env["FASTDDS_DEFAULT_PROFILES_FILE"])
    assert profile == fastdds_profile_path() and profile.is_file()
    assert "FASTRTPS_DEFAULT_PROFILES_FILE" not in env  # deprecated name: rmw warns when set
    assert changed == env


def test_is_idempotent_and_keeps_explicit_user_choices():
    env = {
        "ROS_AUTOMATIC_DISCOVERY_RANGE": "SUBNET",
        "RMW_IMPLEMENTATION": "rmw_cyclonedds_cpp",
        "MUJOCO_GL": "osmesa",
        "FASTRTPS_DEFAULT_PROFILES_FILE": "/etc/my_profile.xml",
    }
    configure_ros_environment(env)
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"  # never leaves the machine
    assert env["RMW_IMPLEMENTATION"] == "rmw_cyclonedds_cpp"
    assert env["MUJOCO_GL"] == "osmesa"
    assert "FASTDDS_DEFAULT_PROFILES_FILE" not in env  # the user's (older-named) profile wins
    snapshot = dict(env)
    assert configure_ros_environment(env) == {}
    assert env == snapshot


def test_adds_the_wheel_prefix_to_ament_prefix_path_once(tmp_path, monkeypatch):
    index = tmp_path / "share" / "ament_index" / "resource_index" / "packages"
    index.mkdir(parents=True)
    (index / "rclpy").write_text("")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    env = {"AMENT_PREFIX_PATH": "/opt/other"}
    configure_ros_environment(env)
    assert env["AMENT_PREFIX_PATH"].split(os.pathsep) == [str(tmp_path), "/opt/other"]
    configure_ros_environment(env)
    assert env["AMENT_PREFIX_PATH"].split(os.pathsep) == [str(tmp_path), "/opt/other"]


def test_updates_os_environ_by_default(monkeypatch):
    monkeypatch.setenv("ROS_AUTOMATIC_DISCOVERY_RANGE", "SUBNET")
    configure_ros_environment()
    assert os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"


def test_profile_is_loopback_only_with_a_32_mb_shared_memory_segment():
    import xml.etree.ElementTree as ET

    ns = {"d": "http://www.eprosima.com"}
    root = ET.parse(fastdds_profile_path()).getroot()
    descriptors = {d.findtext("d:transport_id", namespaces=ns): d for d in root.iterfind(".//d:transport_descriptor", ns)}
    kinds = {d.findtext("d:type", namespaces=ns): d for d in descriptors.values()}
    assert set(kinds) == {"SHM", "UDPv4"}
    assert int(kinds["SHM"].findtext("d:segment_size", namespaces=ns)) == 32 * 1024 * 1024
    assert [a.text for a in kinds["UDPv4"].iterfind(".//d:address", ns)] == ["127.0.0.1"]
    participant = root.find(".//d:participant", ns)
    assert participant.get("is_default_profile") == "true"
    assert participant.findtext(".//d:useBuiltinTransports", namespaces=ns) == "false"
    used = [t.text for t in participant.iterfind(".//d:userTransports/d:transport_id", ns)]
    assert sorted(used) == sorted(descriptors)


def test_share_dir_from_the_source_tree_holds_config():
    share = package_share_dir()
    if environment._source_tree_root() is not None:
        assert share == REPO
    assert (share / "package.xml").is_file() and (share / "config" / "fastdds_loopback.xml").is_file()


def test_share_dir_of_an_installed_prefix(tmp_path, monkeypatch):
    package_root = tmp_path / "lib" / "python3.11" / "site-packages" / "robotracer"
    share = tmp_path / "share" / "robotracer"
    share.mkdir(parents=True)
    (share / "package.xml").write_text("<package/>")
    monkeypatch.setattr(environment, "_PACKAGE_ROOT", package_root)
    monkeypatch.delenv("AMENT_PREFIX_PATH", raising=False)
    assert package_share_dir() == share


def test_share_dir_missing_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(environment, "_PACKAGE_ROOT", tmp_path / "lib" / "python3.11" / "site-packages" / "robotracer")
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "nowhere"))
    monkeypatch.delenv("AMENT_PREFIX_PATH", raising=False)
    try:
        package_share_dir()
    except FileNotFoundError as exc:
        assert "pip install" in str(exc) and "colcon build" in str(exc)
    else:
        raise AssertionError("expected FileNotFoundError")


def test_importing_and_configuring_imports_no_ros():
    code = (
        "import sys; from robotracer.ros.environment import configure_ros_environment; "
        "configure_ros_environment(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('rclpy', 'std_msgs', 'rosidl_runtime_py')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"
