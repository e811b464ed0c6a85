"""launch/g1.launch.py and `robotracer launch g1` describe the same G1 graph, wired like the UR5e one."""

import importlib.util
from pathlib import Path

import pytest

from robotracer.graph import load_graph

REPO = Path(__file__).resolve().parents[2]


def _launch_helpers():
    """The launch-file recorder of test_launch_matches_cli.py (one recorder for every robot)."""
    spec = importlib.util.spec_from_file_location("launch_matches_cli", REPO / "test" / "graph" / "test_launch_matches_cli.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_launch_file_and_cli_build_the_same_g1_nodes(monkeypatch):
    helpers = _launch_helpers()
    helpers.test_launch_file_and_cli_build_the_same_nodes("g1", monkeypatch)
    rec, _ = helpers._run_launch_file("g1", monkeypatch)
    graph = load_graph("g1")
    assert rec.arguments["seed"] == str(graph.node("sim").parameters["seed"])
    assert rec.arguments["backend"] == graph.node("tracer").parameters["backend"]


def test_g1_graph_reuses_the_pipeline_nodes_and_agrees_on_frames_and_sdk_domain():
    graph, ur5 = load_graph("g1"), load_graph("ur5")
    assert graph.robot == "g1"
    executables = {n.name: n.executable for n in graph.nodes}
    assert executables == {
        "sim": "g1_sim_node", "tracer": "tracer_node", "lifter": "lifter_node",
        "g1_controller": "g1_controller_node", "task_server": "task_server_node",
    }  # fmt: skip
    for name in ("tracer", "lifter", "task_server"):
        assert ur5.node(name).executable == executables[name]
    from robotracer.robots.g1.model import BASE_FRAME, HEAD_CAMERA_RPY_IN_PELVIS, HEAD_CAMERA_XYZ_IN_PELVIS

    for node in graph.nodes:
        assert node.parameters["base_frame"] == BASE_FRAME == "pelvis"
        assert node.parameters["camera_xyz"] == pytest.approx(HEAD_CAMERA_XYZ_IN_PELVIS)
        assert node.parameters["camera_rpy"] == pytest.approx(HEAD_CAMERA_RPY_IN_PELVIS)
        assert node.parameters["use_sim_time"] is (node.name not in ("tracer", "lifter"))  # those work on frame stamps
    assert graph.node("sim").parameters["sdk_domain_id"] == graph.node("g1_controller").parameters["sdk_domain_id"]
    assert graph.node("sim").parameters["sdk_interface"] == graph.node("g1_controller").parameters["sdk_interface"] == "lo"
    assert graph.node("task_server").parameters["robot"] == "g1"


def test_g1_node_parameters_are_all_declared_by_the_nodes():
    """Every node-specific parameter the config gives a G1 node is one it declares (no silently ignored settings)."""
    from robotracer.graph import flatten_parameters
    from robotracer.ros.nodes import g1_controller_node, g1_sim_node

    import yaml

    graph = load_graph("g1")
    config = yaml.safe_load(graph.source.read_text())
    for name, module in (("sim", g1_sim_node), ("g1_controller", g1_controller_node)):
        given = set(flatten_parameters(config["nodes"][name]["parameters"]))
        declared = set(flatten_parameters(module.DEFAULTS))
        assert given - declared == set(), f"{name}: parameters the node does not declare: {given - declared}"
