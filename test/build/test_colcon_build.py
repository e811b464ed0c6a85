"""`colcon build` (no flags) of a workspace holding this repository, then use the install."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from _repo_copy import PROBE_NODE, copy_repository, node_names, venv_prefix

pytestmark = pytest.mark.slow

IMPORTS = (
    "import robotracer; "
    "from robotracer.action import Trace; from robotracer.srv import InferTrace; "
    "from robotracer.msg import SpatialTrace; "
    "from robotracer.ros.environment import package_share_dir; "
    "goal = Trace.Goal(instruction='put the cup left of the plate'); "
    "print(robotracer.__file__); print(package_share_dir()); print(goal.instruction)"
)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    colcon = venv_prefix() / "bin" / "colcon"
    if not colcon.exists():
        pytest.fail(f"colcon is not installed in {venv_prefix()}: pip install -e '.[build]'")
    ws = tmp_path_factory.mktemp("colcon_ws")
    source = copy_repository(ws / "src" / "robotracer")
    env = dict(os.environ, AMENT_PREFIX_PATH=str(venv_prefix()), PATH=f"{venv_prefix()}/bin:{os.environ['PATH']}")
    env.pop("CMAKE_PREFIX_PATH", None)
    result = subprocess.run([str(colcon), "build"], cwd=ws, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert (ws / "install" / "setup.bash").is_file(), "colcon-bash missing: pip install colcon-bash"
    ws.joinpath("nodes.txt").write_text("\n".join(node_names(source)))
    return ws


def _in_sourced_install(ws: Path, command: str) -> subprocess.CompletedProcess:
    script = f'export AMENT_PREFIX_PATH="{venv_prefix()}"; source install/setup.bash; {command}'
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "AMENT_PREFIX_PATH", "CMAKE_PREFIX_PATH")}
    env["PATH"] = f"{venv_prefix()}/bin:{env['PATH']}"
    return subprocess.run(["bash", "-c", script], cwd=ws, env=env, capture_output=True, text=True, timeout=120)


def test_interfaces_import_from_the_sourced_install(workspace):
    result = _in_sourced_install(workspace, f'python -c "{IMPORTS}"')
    assert result.returncode == 0, result.stderr[-4000:]
    module, share, instruction = result.stdout.strip().splitlines()[-3:]
    install = workspace / "install" / "robotracer"
    assert Path(module).is_relative_to(install), f"robotracer imported from {module}, not the install"
    assert Path(share) == install / "share" / "robotracer"
    assert (Path(share) / "config" / "fastdds_loopback.xml").is_file()
    assert instruction == "put the cup left of the plate"


def test_real_package_init_wins_over_rosidls_empty_one(workspace):
    installed = next((workspace / "install" / "robotracer" / "lib").glob("python3*/site-packages/robotracer/__init__.py"))
    assert "__version__" in installed.read_text()


def test_every_node_module_has_an_executable_launcher(workspace):
    names = workspace.joinpath("nodes.txt").read_text().split()
    assert PROBE_NODE in names
    lib = workspace / "install" / "robotracer" / "lib" / "robotracer"
    for name in names:
        launcher = lib / name
        assert launcher.is_file(), f"no launcher for {name} in {lib}: {sorted(p.name for p in lib.iterdir())}"
        assert os.access(launcher, os.X_OK), f"{launcher} is not executable"
    assert sorted(p.name for p in lib.iterdir()) == names


def test_probe_node_launcher_runs_main_from_the_install(workspace):
    result = _in_sourced_install(workspace, f"install/robotracer/lib/robotracer/{PROBE_NODE} --ros-args -p x:=1")
    assert result.returncode == 0, result.stderr[-4000:]
    probe, module, action, *args = result.stdout.split()
    assert probe == "probe" and action == "Trace" and args == ["['--ros-args',", "'-p',", "'x:=1']"]
    assert Path(module).is_relative_to(workspace / "install")

