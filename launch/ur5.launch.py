"""Launch the UR5e simulation graph on a full ROS 2 install: ``ros2 launch robotracer ur5.launch.py``.

Nodes and parameters come from config/ur5.yaml (the same file ``robotracer launch ur5`` reads).
Arguments: ``seed:=N`` (random object layout), ``backend:=NAME`` (tracer backend).
"""

from robotracer.launching import graph_launch_description


def generate_launch_description():
    return graph_launch_description("ur5", seed_help="object layout: -1 default, N random")
