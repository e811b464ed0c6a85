"""The process environment every robotracer entry point sets before ``rclpy`` is imported.

- ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` (always): DDS discovery stays on this machine;
- ``RMW_IMPLEMENTATION=rmw_fastrtps_cpp`` unless set;
- ``FASTDDS_DEFAULT_PROFILES_FILE`` (and the older ``FASTRTPS_DEFAULT_PROFILES_FILE``) to
  ``config/fastdds_loopback.xml`` unless set: loopback UDP + a 32 MB shared-memory segment;
- ``AMENT_PREFIX_PATH`` gains the Python prefix when rclpy comes from PyPI wheels (the ament
  index of the message packages lives there);
- ``MUJOCO_GL=egl`` unless set (headless rendering).

Importing this module imports no ROS package.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROFILE_NAME = "fastdds_loopback.xml"


def package_share_dir() -> str:
    """The folder holding ``config/``, ``launch/`` and ``urdf/``: ``share/robotracer`` of an
    install (colcon or pip), or the source tree in an editable checkout."""
    here = Path(__file__).resolve()
    candidates = [here.parents[3]]  # <repo>/src/robotracer/ros/environment.py -> <repo>
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) + [sys.prefix]:
        if prefix:
            candidates.append(Path(prefix) / "share" / "robotracer")
    for c in candidates:
        if (c / "config" / "ur5.yaml").exists():
            return str(c)
    raise FileNotFoundError(
        "robotracer's share folder (config/, launch/) was not found; looked in: " + ", ".join(map(str, candidates))
    )


def _prepend_path(var: str, value: str) -> None:
    parts = [p for p in os.environ.get(var, "").split(os.pathsep) if p]
    if value not in parts:
        os.environ[var] = os.pathsep.join([value] + parts)


def configure_ros_environment() -> dict[str, str]:
    """Set the variables above (idempotent); returns the ones this call set or changed."""
    before = dict(os.environ)
    os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
    os.environ.setdefault("RMW_IMPLEMENTATION", "rmw_fastrtps_cpp")
    os.environ.setdefault("MUJOCO_GL", "egl")
    try:
        profile = Path(package_share_dir()) / "config" / PROFILE_NAME
    except FileNotFoundError:
        profile = None
    if profile is not None and profile.exists():
        os.environ.setdefault("FASTDDS_DEFAULT_PROFILES_FILE", str(profile))
        os.environ.setdefault("FASTRTPS_DEFAULT_PROFILES_FILE", os.environ["FASTDDS_DEFAULT_PROFILES_FILE"])
    if (Path(sys.prefix) / "share" / "ament_index").is_dir():
        _prepend_path("AMENT_PREFIX_PATH", sys.prefix)
    return {k: v for k, v in os.environ.items() if before.get(k) != v}
