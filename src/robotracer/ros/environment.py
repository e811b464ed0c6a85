"""Process environment for robotracer's ROS 2 processes.

Call :func:`configure_ros_environment` before ``import rclpy`` (the middleware reads
these variables when the first context/participant is created). It never imports rclpy.

What it sets:

- ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` — always: this project talks on loopback only;
- ``RMW_IMPLEMENTATION=rmw_fastrtps_cpp`` — unless set (the only RMW on PyPI);
- ``FASTDDS_DEFAULT_PROFILES_FILE`` — the project's loopback + 32 MB shared-memory profile,
  unless the user set a profile (in it or in the older ``FASTRTPS_DEFAULT_PROFILES_FILE``).
  The older name is not set here: Kilted's rmw warns on every start when it is set;
- ``AMENT_PREFIX_PATH`` — gains this environment's prefix when ROS comes from the PyPI
  wheels or robotracer is pip-installed there (the ament index lives there);
- ``MUJOCO_GL=egl`` — unless set (headless rendering).

:func:`package_share_dir` finds ``share/robotracer`` (launch/, config/, urdf/) in all three
install modes: colcon install, ``pip install .``, and the editable/source tree.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

PACKAGE = "robotracer"
FASTDDS_PROFILE = Path("config") / "fastdds_loopback.xml"
"""The Fast DDS profile, relative to the share dir."""

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # .../robotracer


def _has_package_index(prefix: Path, package: str) -> bool:
    return (prefix / "share" / "ament_index" / "resource_index" / "packages" / package).is_file()


def _source_tree_root() -> Path | None:
    """The repository root when robotracer is imported from src/ (editable or PYTHONPATH)."""
    root = _PACKAGE_ROOT.parents[1]  # <root>/src/robotracer
    if _PACKAGE_ROOT.parent.name == "src" and (root / "package.xml").is_file() and (root / "CMakeLists.txt").is_file():
        return root
    return None


def _installed_prefix() -> Path:
    """The prefix robotracer is installed in: <prefix>/lib/python3.X/site-packages/robotracer."""
    return _PACKAGE_ROOT.parents[3]


def package_share_dir() -> Path:
    """Directory holding robotracer's launch/, config/ and urdf/ (``share/robotracer``).

    Looked up, in order: the source tree when the package is imported from src/ (so edits
    to config files apply at once), the prefix the package is installed in (colcon or
    pip), the ament index on ``AMENT_PREFIX_PATH``, and this interpreter's prefix.

    Raises:
        FileNotFoundError: none of these holds robotracer's share files.
    """
    source_root = _source_tree_root()
    if source_root is not None:
        return source_root
    candidates = [_installed_prefix()]
    candidates += [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    candidates.append(Path(sys.prefix))
    for prefix in candidates:
        share = prefix / "share" / PACKAGE
        if (share / "package.xml").is_file():
            return share
    searched = ", ".join(str(p / "share" / PACKAGE) for p in candidates)
    raise FileNotFoundError(
        f"robotracer's share directory was not found (searched: {searched}). Install the "
        "package (`pip install .`, `pip install -e .`, or `colcon build` then "
        "`source install/setup.bash`)."
    )


def fastdds_profile_path() -> Path:
    """The project's Fast DDS profile (loopback UDP + 32 MB shared memory)."""
    return package_share_dir() / FASTDDS_PROFILE


def _prepend_unique(value: str, entry: str) -> str:
    parts = [p for p in value.split(os.pathsep) if p]
    return value if entry in parts else os.pathsep.join([entry, *parts])


def configure_ros_environment(environ: MutableMapping[str, str] | None = None) -> dict[str, str]:
    """Set the variables robotracer's ROS processes need; idempotent; no rclpy import.

    Args:
        environ: the mapping to update; ``os.environ`` by default.

    Returns:
        The variables this call changed, ``{name: new value}`` (empty when nothing changed).
    """
    env = os.environ if environ is None else environ
    wanted: dict[str, str] = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    if not env.get("RMW_IMPLEMENTATION"):
        wanted["RMW_IMPLEMENTATION"] = "rmw_fastrtps_cpp"
    if not env.get("MUJOCO_GL"):
        wanted["MUJOCO_GL"] = "egl"

    if not (env.get("FASTDDS_DEFAULT_PROFILES_FILE") or env.get("FASTRTPS_DEFAULT_PROFILES_FILE")):
        try:
            profile = fastdds_profile_path()
        except FileNotFoundError:
            profile = None
        if profile is not None and profile.is_file():
            wanted["FASTDDS_DEFAULT_PROFILES_FILE"] = str(profile)

    ament_prefix_path = env.get("AMENT_PREFIX_PATH", "")
    for prefix in (Path(sys.prefix), _installed_prefix()):
        # ROS from PyPI wheels (rclpy indexed in the venv) or robotracer pip-installed there.
        if _has_package_index(prefix, "rclpy") or _has_package_index(prefix, PACKAGE):
            ament_prefix_path = _prepend_unique(ament_prefix_path, str(prefix))
    if ament_prefix_path:
        wanted["AMENT_PREFIX_PATH"] = ament_prefix_path

    changed = {name: value for name, value in wanted.items() if env.get(name) != value}
    env.update(changed)
    return changed
