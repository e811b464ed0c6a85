"""launch/<robot>.launch.py and `robotracer launch <robot>` must describe the same node graph."""

import importlib.util
import sys
import types
from pathlib import Path

import pytest

from robotracer.cli.process_graph import node_command
from robotracer.graph import load_graph

REPO = Path(__file__).resolve().parents[2]


class _Recorder:
    """Stand-ins for launch / launch_ros that record what the launch file builds."""

    def __init__(self):
        self.nodes = []
        self.arguments = {}
        recorder = self

        class LaunchDescription(list):
            def __init__(self, entities):
                super().__init__(entities)

        class DeclareLaunchArgument:
            def __init__(self, name, default_value="", description=""):
                recorder.arguments[name] = default_value

        class OpaqueFunction:
            def __init__(self, function):
                self.function = function

        class SetEnvironmentVariable:
            def __init__(self, name, value):
                self.name, self.value = name, value

        class LaunchConfiguration:
            def __init__(self, name):
                self.name = name

            def perform(self, context):
                return context[self.name]

        class Node:
            def __init__(self, **kwargs):
                recorder.nodes.append(kwargs)

        self.modules = {
            "launch": types.SimpleNamespace(LaunchDescription=LaunchDescription),
            "launch.actions": types.SimpleNamespace(
                DeclareLaunchArgument=DeclareLaunchArgument, OpaqueFunction=OpaqueFunction,
                SetEnvironmentVariable=SetEnvironmentVariable,
            ),
            "launch.substitutions": types.SimpleNamespace(LaunchConfiguration=LaunchConfiguration),
            "launch_ros": types.SimpleNamespace(),
            "launch_ros.actions": types.SimpleNamespace(Node=Node),
        }


def _run_launch_file(robot: str, monkeypatch):
    rec = _Recorder()
    for name, mod in rec.modules.items():
        monkeypatch.setitem(sys.modules, name, mod)
    spec = importlib.util.spec_from_file_location(f"{robot}_launch", REPO / "launch" / f"{robot}.launch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    description = module.generate_launch_description()
    env = {e.name: e.value for e in description if hasattr(e, "name") and hasattr(e, "value")}
    for entity in description:
        if hasattr(entity, "function"):
            entity.function(dict(rec.arguments))
    return rec, env


@pytest.mark.parametrize("robot", ["ur5", "g1"])
def test_launch_file_and_cli_build_the_same_nodes(robot, monkeypatch):
    rec, env = _run_launch_file(robot, monkeypatch)
    graph = load_graph(robot)
    from_launch = {n["name"]: (n["executable"], n["parameters"][0]) for n in rec.nodes}
    from_cli = {n.name: (n.executable, n.parameters) for n in graph.nodes}
    assert from_launch == from_cli
    assert all(n["package"] == "robotracer" for n in rec.nodes)
    assert env["ROS_AUTOMATIC_DISCOVERY_RANGE"] == "LOCALHOST"
    for node in graph.nodes:
        cmd = node_command(node, Path("/tmp/p.yaml"))
        assert cmd[cmd.index("-m") + 1] == f"robotracer.ros.nodes.{node.executable}"
        assert f"__node:={node.name}" in cmd
        assert (REPO / "src" / "robotracer" / "ros" / "nodes" / f"{node.executable}.py").exists()


def test_launch_defaults_come_from_the_config(monkeypatch):
    rec, _ = _run_launch_file("ur5", monkeypatch)
    graph = load_graph("ur5")
    assert rec.arguments["seed"] == str(graph.node("sim").parameters["seed"])
    assert rec.arguments["backend"] == graph.node("tracer").parameters["backend"]
