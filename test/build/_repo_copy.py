"""Helpers for the build tests: a clean copy of the repository with a throw-away node."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE_NODE = "zz_build_probe_node"
PROBE_NODE_SOURCE = '''
"""Throw-away node module added by the build tests to a copy of the repository."""
import sys


def main() -> int:
    import robotracer
    from robotracer.action import Trace

    print("probe", robotracer.__file__, Trace.__name__, sys.argv[1:], flush=True)
    return 0
'''

_IGNORED = shutil.ignore_patterns(
    ".git", ".venv", "build", "install", "log", "__pycache__", "*.pyc", ".pytest_cache",
    "*.egg-info", "dist", "out", "runs", "test-logs",
)


def copy_repository(destination: Path) -> Path:
    """Copy the working tree (no venv, build outputs or generated interface modules)
    to ``destination`` and add a probe node module; return ``destination``."""

    def ignore(directory: str, names: list[str]) -> set[str]:
        ignored = set(_IGNORED(directory, names))
        if Path(directory) == REPO / "src" / "robotracer":  # development-install outputs
            ignored |= {n for n in names if n in ("msg", "srv", "action") or n.endswith(".so")}
        if Path(directory) == REPO / "test":
            ignored |= set(names)  # tests are not part of the package
        return ignored

    shutil.copytree(REPO, destination, ignore=ignore)
    nodes = destination / "src" / "robotracer" / "ros" / "nodes"
    nodes.mkdir(parents=True, exist_ok=True)
    (nodes / f"{PROBE_NODE}.py").write_text(PROBE_NODE_SOURCE)
    return destination


def node_names(root: Path = REPO) -> list[str]:
    """Executables CMakeLists.txt must generate: one per src/robotracer/ros/nodes/*_node.py."""
    return sorted(p.stem for p in (root / "src" / "robotracer" / "ros" / "nodes").glob("*_node.py"))


def venv_prefix() -> Path:
    """The prefix holding the ROS wheels (this interpreter's)."""
    return Path(sys.prefix)
