"""Launch the Unitree G1 simulation graph on a full ROS 2 install: ``ros2 launch robotracer g1.launch.py``.

Nodes and parameters come from config/g1.yaml (the same file ``robotracer launch g1`` reads).
Arguments: ``seed:=N`` (object layout; the G1 scene has one, -1), ``backend:=NAME`` (tracer backend).
"""

from robotracer.launching import graph_launch_description


def generate_launch_description():
    return graph_launch_description("g1", seed_help="object layout: -1 (the G1 scene has one)")
