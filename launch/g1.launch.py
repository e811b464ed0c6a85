"""Launch the Unitree G1 simulation graph on a full ROS 2 install: ``ros2 launch robotracer g1.launch.py``.

Nodes and parameters come from config/g1.yaml (the same file ``robotracer launch g1`` reads).
Arguments: ``seed:=N`` (object layout; the G1 scene has one, -1), ``backend:=NAME`` (tracer backend).
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from robotracer.graph import load_graph

ROBOT = "g1"


def _nodes(context, *_args, **_kwargs):
    overrides = {
        "sim": {"seed": int(LaunchConfiguration("seed").perform(context))},
        "tracer": {"backend": LaunchConfiguration("backend").perform(context)},
    }
    graph = load_graph(ROBOT, overrides)
    return [
        Node(package="robotracer", executable=n.executable, name=n.name, parameters=[n.parameters], output="screen")
        for n in graph.nodes
    ]


def generate_launch_description():
    defaults = load_graph(ROBOT)
    seed = str(defaults.node("sim").parameters.get("seed", -1))
    backend = str(defaults.node("tracer").parameters.get("backend", "geometric"))
    return LaunchDescription(
        [
            SetEnvironmentVariable("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST"),
            SetEnvironmentVariable("MUJOCO_GL", "egl"),
            DeclareLaunchArgument("seed", default_value=seed, description="object layout: -1 (the G1 scene has one)"),
            DeclareLaunchArgument("backend", default_value=backend, description="tracer backend"),
            OpaqueFunction(function=_nodes),
        ]
    )
