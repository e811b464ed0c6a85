"""pip build of robotracer: the Python package plus the ROS interfaces built by CMake.

`pip install .` (and `pip wheel .`) runs CMakeLists.txt — the same project `colcon build`
builds — into a staging prefix under build/pip/, then puts in the wheel:

- the hand-written package from src/robotracer, plus the generated ``robotracer.msg``,
  ``robotracer.srv``, ``robotracer.action`` modules and their type-support extensions;
- the staged ``lib/*.so`` (interface libraries), ``lib/robotracer/*`` (node launchers),
  ``include/`` and ``share/`` (ament index entry, package.xml, launch/config/urdf) as
  data files, which land in the environment's prefix, where the ROS wheels keep theirs.

`pip install -e .` (development mode) builds the same way, installs the data files into
the prefix, and copies the generated modules into src/robotracer/{msg,srv,action} and
src/robotracer/*.so (git-ignored), so edits to src/robotracer take effect at once. Run it
again after changing an interface file; the CMake build directory is kept, so that is an
incremental build.

The ROS CMake packages are looked up in AMENT_PREFIX_PATH and in the prefix that holds
the importable ``ament_package`` (the venv, or pip's isolated build environment).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Command, Distribution, find_packages, setup
from setuptools.command.build import build
from setuptools.command.build_py import build_py
from distutils.command.install_data import install_data  # noqa: E402 (setuptools' distutils)

ROOT = Path(__file__).resolve().parent
PACKAGE = "robotracer"
GENERATED_SUBPACKAGES = ("msg", "srv", "action")
STAGING_ROOT = ROOT / "build" / "pip"


class BinaryDistribution(Distribution):
    """The wheel carries compiled interface libraries (a cp311 platform wheel) and data
    files that exist only once CMake has run (so they cannot be listed up front)."""

    def has_ext_modules(self) -> bool:
        return True

    def has_data_files(self) -> bool:
        return True

    # setuptools' editable_wheel asks for has_data (not has_data_files) before it
    # installs data files; without this a development install would skip them.
    has_data = has_data_files


def _ros_prefixes() -> list[str]:
    """Install prefixes holding the ament/rosidl CMake packages, most specific first."""
    prefixes: list[str] = []
    try:
        import ament_package
    except ImportError:
        pass
    else:
        # <prefix>/lib/python3.11/site-packages/ament_package/__init__.py
        prefixes.append(str(Path(ament_package.__file__).resolve().parents[4]))
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        if prefix and prefix not in prefixes:
            prefixes.append(prefix)
    if not prefixes:
        raise RuntimeError(
            "robotracer's ROS interfaces need the ROS 2 build tools: install the build "
            "requirements listed in pyproject.toml (pip does this unless "
            "--no-build-isolation is given) or set AMENT_PREFIX_PATH to a ROS 2 install."
        )
    return prefixes


def _prune_stale_staging_dirs(keep: Path) -> None:
    """Remove staging dirs of build environments that are gone (pip's temporary ones)."""
    if not STAGING_ROOT.is_dir():
        return
    for candidate in STAGING_ROOT.iterdir():
        marker = candidate / "prefixes.txt"
        if candidate == keep or not marker.is_file():
            continue
        if not all(Path(line).exists() for line in marker.read_text().split()):
            shutil.rmtree(candidate, ignore_errors=True)


_STAGED_PREFIX: Path | None = None


def stage_cmake_install() -> Path:
    """Configure, build and install CMakeLists.txt into a staging prefix; return it.

    Runs once per process. The build directory is keyed on the interpreter and the ROS
    prefixes, so a development venv rebuilds incrementally while pip's throw-away
    isolated environments never reuse each other's CMake caches.
    """
    global _STAGED_PREFIX
    if _STAGED_PREFIX is not None:
        return _STAGED_PREFIX
    cmake = shutil.which("cmake")
    if cmake is None:
        raise RuntimeError(
            "cmake was not found on PATH; robotracer builds its ROS interfaces with CMake "
            "and a C/C++ compiler. Install them (Debian: apt-get install cmake g++ make "
            "python3-dev) or run scripts/setup.sh."
        )
    prefixes = _ros_prefixes()
    key = hashlib.sha1("\n".join([sys.prefix, *prefixes]).encode()).hexdigest()[:12]
    staging = STAGING_ROOT / key
    build_dir, prefix = staging / "cmake", staging / "prefix"
    build_dir.mkdir(parents=True, exist_ok=True)
    (staging / "prefixes.txt").write_text("\n".join([sys.prefix, *prefixes]) + "\n")
    _prune_stale_staging_dirs(keep=staging)

    env = dict(os.environ)
    env["AMENT_PREFIX_PATH"] = os.pathsep.join(prefixes)
    env["CMAKE_PREFIX_PATH"] = os.pathsep.join(
        prefixes + [p for p in env.get("CMAKE_PREFIX_PATH", "").split(os.pathsep) if p]
    )
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))

    def run(*args: str) -> None:
        print("robotracer:", " ".join(args), flush=True)
        subprocess.run(args, cwd=ROOT, env=env, check=True)

    run(
        cmake, "-S", str(ROOT), "-B", str(build_dir),
        f"-DCMAKE_INSTALL_PREFIX={prefix}",
        "-DCMAKE_BUILD_TYPE=Release",
        "-DBUILD_TESTING=OFF",
        f"-DPython3_EXECUTABLE={sys.executable}",
    )
    run(cmake, "--build", str(build_dir))
    shutil.rmtree(prefix, ignore_errors=True)  # nothing stale from removed interfaces
    run(cmake, "--install", str(build_dir))
    _STAGED_PREFIX = prefix
    return prefix


def _staged_package(prefix: Path) -> Path:
    purelib = sysconfig.get_path("purelib", vars={"base": str(prefix), "platbase": str(prefix)})
    return Path(purelib) / PACKAGE


def _generated_python_files(prefix: Path) -> list[Path]:
    """The generated parts of the staged package: msg/srv/action and type-support .so."""
    package = _staged_package(prefix)
    generated = [package / name for name in GENERATED_SUBPACKAGES if (package / name).is_dir()]
    return generated + sorted(package.glob("*.so"))


def _copy_generated(prefix: Path, target: Path, *, mark_ignored: bool) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob(f"{PACKAGE}_s__*.so"):
        stale.unlink()
    for source in _generated_python_files(prefix):
        destination = target / source.name
        if source.is_dir():
            shutil.rmtree(destination, ignore_errors=True)
            # rosidl also installs the C sources of the extensions; the modules need none.
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.c"))
            if mark_ignored:  # generated output inside the source tree stays out of git
                (destination / ".gitignore").write_text("# generated by setup.py\n*\n")
        else:
            shutil.copy2(source, destination)


def _data_files(prefix: Path) -> list[tuple[str, list[str]]]:
    """Everything staged outside lib/python3.X (the Python package), by destination dir."""
    grouped: dict[str, list[str]] = {}
    for path in sorted(prefix.rglob("*")):
        relative = path.relative_to(prefix)
        if path.is_dir() or (relative.parts[0] == "lib" and relative.parts[1].startswith("python")):
            continue
        grouped.setdefault(str(relative.parent), []).append(os.path.relpath(path, ROOT))
    return sorted(grouped.items())


class BuildRosInterfaces(Command):
    """Build the ROS interfaces (CMakeLists.txt) into the staging prefix."""

    description = "build the ROS interfaces with CMake into a staging prefix"
    user_options: list = []
    editable_mode = False

    def initialize_options(self) -> None:
        pass

    def finalize_options(self) -> None:
        pass

    def run(self) -> None:
        stage_cmake_install()


class Build(build):
    """build that starts with the CMake step (also in editable mode, where its errors
    must stop the install rather than be downgraded to warnings)."""

    sub_commands = [("build_ros_interfaces", None), *build.sub_commands]


class BuildPyWithInterfaces(build_py):
    """build_py that also builds the ROS interfaces with CMake and adds their modules."""

    def run(self) -> None:
        prefix = stage_cmake_install()
        super().run()
        if self.editable_mode:
            _copy_generated(prefix, ROOT / "src" / PACKAGE, mark_ignored=True)
        else:
            _copy_generated(prefix, Path(self.build_lib) / PACKAGE, mark_ignored=False)


class InstallDataFromStaging(install_data):
    """install_data whose files are the staged CMake install (libs, launchers, share)."""

    def run(self) -> None:
        self.data_files = _data_files(stage_cmake_install())
        super().run()


setup(
    distclass=BinaryDistribution,
    data_files=[],  # filled from the CMake staging prefix by install_data
    package_dir={"": "src"},
    packages=find_packages(
        "src",
        exclude=[f"{PACKAGE}.{name}" for name in GENERATED_SUBPACKAGES]
        + [f"{PACKAGE}.{name}.*" for name in GENERATED_SUBPACKAGES],
    ),
    package_data={"": ["*.yaml", "*.yml", "*.json", "*.xml", "*.txt", "*.md", "*.png", "*.jpg", "*.obj", "*.stl"]},
    cmdclass={
        "build": Build,
        "build_ros_interfaces": BuildRosInterfaces,
        "build_py": BuildPyWithInterfaces,
        "install_data": InstallDataFromStaging,
    },
)
