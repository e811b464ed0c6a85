"""Integration fixtures: the real node graph in separate processes over DDS on loopback.

Each module gets its own ROS_DOMAIN_ID so graphs of different tests never see each other.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("robotracer.msg", reason="ROS interfaces not built")


class GraphHandle:
    """A running graph plus a test-side node: send /trace goals, reset the sim, read joints and objects."""

    def __init__(self, running, node, executor, log_dir: Path) -> None:
        from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
        from rosgraph_msgs.msg import Clock
        from sensor_msgs.msg import JointState
        from visualization_msgs.msg import MarkerArray

        from robotracer.ros import conversions as conv
        from robotracer.ros import topics
        from robotracer.ros.trace_client import TraceClient
        from robotracer.srv import ResetSim

        self.running, self.node, self.executor, self.log_dir = running, node, executor, log_dir
        self.client = TraceClient(node)
        self.reset_client = node.create_client(ResetSim, topics.SIM_RESET)
        self._lock = threading.Lock()
        self.joint_log: list[tuple[float, np.ndarray]] = []
        self.poses: dict = {}
        self.sim_time = 0.0

        def on_joints(msg):
            with self._lock:
                self.joint_log.append((conv.time_to_seconds(msg.header.stamp), np.array(msg.position[:6])))
                if len(self.joint_log) > 20000:
                    del self.joint_log[:10000]

        def on_clock(msg):
            self.sim_time = conv.time_to_seconds(msg.clock)

        latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
        node.create_subscription(JointState, topics.JOINT_STATES, on_joints, 50)
        node.create_subscription(Clock, "/clock", on_clock, 10)
        node.create_subscription(MarkerArray, topics.SIM_OBJECT_POSES, lambda m: self.poses.update(conv.markers_to_poses(m)), latched)

    def reset(self, seed: int = -1) -> list[str]:
        from robotracer.srv import ResetSim

        assert self.reset_client.wait_for_service(timeout_sec=30.0), "no /sim/reset service"
        future = self.reset_client.call_async(ResetSim.Request(seed=seed))
        t0 = time.monotonic()
        while not future.done():
            assert time.monotonic() - t0 < 60.0, "sim reset timed out"
            time.sleep(0.01)
        res = future.result()
        assert res.success, res.message
        time.sleep(0.5)  # fresh frames and poses after the reset
        with self._lock:
            self.joint_log.clear()
        return list(res.objects)

    def joints(self) -> np.ndarray:
        deadline = time.monotonic() + 10.0
        while True:
            with self._lock:
                if self.joint_log:
                    return self.joint_log[-1][1].copy()
            assert time.monotonic() < deadline, "no /joint_states"
            time.sleep(0.02)

    def joint_history(self) -> list[tuple[float, np.ndarray]]:
        with self._lock:
            return list(self.joint_log)

    def object_poses(self) -> dict:
        return {k: (v[0].copy(), v[1].copy()) for k, v in self.poses.items()}


def _start_graph(request, robot: str, exclude: tuple[str, ...] = (), overrides: dict | None = None):
    from robotracer.cli.process_graph import ProcessGraph
    from robotracer.graph import GraphSpec, load_graph
    from robotracer.ros.node_runtime import configure_environment

    domain = 100 + (os.getpid() + abs(hash(request.module.__name__))) % 100
    os.environ["ROS_DOMAIN_ID"] = str(domain)
    configure_environment()
    import rclpy

    from robotracer.ros.trace_client import spin_in_background

    graph = load_graph(robot, overrides)
    graph = GraphSpec(graph.robot, tuple(n for n in graph.nodes if n.name not in exclude), graph.source)
    log_dir = Path(request.config.rootpath) / "test-logs" / request.module.__name__.split(".")[-1]
    running = ProcessGraph(graph, output=None, log_dir=log_dir)
    running.start()
    rclpy.init()
    node = rclpy.create_node("integration_test")
    executor = spin_in_background(node)
    handle = GraphHandle(running, node, executor, log_dir)
    return handle


def _stop_graph(handle: GraphHandle) -> None:
    import rclpy

    handle.executor.shutdown(timeout_sec=1.0)
    handle.node.destroy_node()
    rclpy.try_shutdown()
    handle.running.stop()


@pytest.fixture(scope="module")
def ur5_graph(request):
    """The full UR5e graph, up and answering /trace."""
    handle = _start_graph(request, "ur5")
    try:
        deadline = time.monotonic() + 180.0
        while not handle.client.wait_for_server(1.0):
            dead = handle.running.dead()
            assert not dead, f"nodes died at start-up: {dead}; logs in {handle.log_dir}"
            assert time.monotonic() < deadline, f"graph not up in 180 s; logs in {handle.log_dir}"
        handle.joints()
        yield handle
    finally:
        _stop_graph(handle)


@pytest.fixture(scope="module")
def graph_without_camera(request):
    """Tracer, lifter, controller and task server, but no simulator: no camera frames ever arrive."""
    handle = _start_graph(request, "ur5", exclude=("sim",))
    try:
        deadline = time.monotonic() + 120.0
        while not handle.client.wait_for_server(1.0):
            assert time.monotonic() < deadline, f"task server not up; logs in {handle.log_dir}"
        yield handle
    finally:
        _stop_graph(handle)

