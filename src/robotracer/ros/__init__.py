"""ROS 2 adapters: process environment, message conversions and the node executables.

Everything ROS-specific (rclpy, message packages) lives under this package; the rest of
robotracer never imports it. Call :func:`robotracer.ros.environment.configure_ros_environment`
before ``import rclpy`` in any new entry point.
"""
