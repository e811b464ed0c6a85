"""The ``ros2 launch`` description of a robot's graph, built from ``config/<robot>.yaml``.

``launch/<robot>.launch.py`` calls :func:`graph_launch_description`; ``robotracer launch``
reads the same config, so the two cannot drift. ``launch``/``launch_ros`` exist only on a full
ROS 2 install and are imported when the description is built.
"""

from __future__ import annotations

from robotracer.graph import load_graph


def graph_launch_description(robot: str, seed_help: str):
    """Launch arguments ``seed:=N`` and ``backend:=NAME`` (defaults from the config), the loopback and
    headless environment, and one ``Node`` per graph node with its config parameters."""
    from launch import LaunchDescription
    from launch.actions import DeclareLaunchArgument, OpaqueFunction, SetEnvironmentVariable
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    def nodes(context, *_args, **_kwargs):
        overrides = {
            "sim": {"seed": int(LaunchConfiguration("seed").perform(context))},
            "tracer": {"backend": LaunchConfiguration("backend").perform(context)},
        }
        return [
            Node(package="robotracer", executable=n.executable, name=n.name, parameters=[n.parameters], output="screen")
            for n in load_graph(robot, overrides).nodes
        ]

    defaults = load_graph(robot)
    seed = str(defaults.node("sim").parameters.get("seed", -1))
    backend = str(defaults.node("tracer").parameters.get("backend", "geometric"))
    return LaunchDescription(
        [
            SetEnvironmentVariable("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST"),
            SetEnvironmentVariable("MUJOCO_GL", "egl"),
            DeclareLaunchArgument("seed", default_value=seed, description=seed_help),
            DeclareLaunchArgument("backend", default_value=backend, description="tracer backend"),
            OpaqueFunction(function=nodes),
        ]
    )
