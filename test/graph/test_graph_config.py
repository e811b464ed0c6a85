import pytest
import yaml

from robotracer.cli.launch_command import parse_overrides
from robotracer.graph import GraphConfigError, flatten_parameters, load_graph


def test_shared_parameters_reach_every_node():
    graph = load_graph("ur5")
    names = [n.name for n in graph.nodes]
    assert names == ["sim", "tracer", "lifter", "ur5_controller", "task_server"]
    xyz = {tuple(n.parameters["camera_xyz"]) for n in graph.nodes}
    assert len(xyz) == 1  # one camera pose for everyone
    # nodes that follow a clock run on sim time; tracer and lifter work on frame stamps (a node's own value wins)
    assert {n.name for n in graph.nodes if n.parameters["use_sim_time"]} == {"sim", "ur5_controller", "task_server"}


def test_overrides_merge_nested_and_leave_the_rest():
    graph = load_graph("ur5", parse_overrides(["sim.seed=3", "task_server.workspace.lower=[0, 0, 0]"]))
    assert graph.node("sim").parameters["seed"] == 3
    ws = graph.node("task_server").parameters["workspace"]
    assert ws["lower"] == [0, 0, 0] and ws["upper"] == load_graph("ur5").node("task_server").parameters["workspace"]["upper"]


def test_params_file_layout_is_what_ros_expects():
    node = load_graph("ur5").node("tracer")
    content = yaml.safe_load(yaml.safe_dump(node.params_file_content()))
    assert content["tracer"]["ros__parameters"]["backend"] == "geometric"


def test_flatten_uses_dotted_names():
    assert flatten_parameters({"a": 1, "b": {"c": 2, "d": {"e": 3}}}) == {"a": 1, "b.c": 2, "b.d.e": 3}


def test_unknown_robot_lists_the_available_ones():
    with pytest.raises(GraphConfigError, match="available: .*ur5"):
        load_graph("r2d2")


def test_bad_override_explains_the_syntax():
    with pytest.raises(Exception, match="node.param=value"):
        parse_overrides(["seed=3"])
