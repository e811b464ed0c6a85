"""sim node: the MuJoCo UR5e tabletop, paced to real time (or a multiple of it).

Publishes ``/clock``, ``/joint_states``, the RGB-D camera (rgb8 + 32FC1 metres with identical
stamps, CameraInfo), the ground-truth segmentation (16UC1 ids + ``LabelMap``, named
``sim_ground_truth``) and the ground-truth object poses (``/sim/object_poses``). Takes arm
position targets on ``/arm/joint_command`` and gripper closure on ``/gripper/command``;
``/sim/reset`` (robotracer/srv/ResetSim) lays out a new scene.

Physics and rendering run in the main thread (the EGL context belongs to it); ROS callbacks
spin in a background executor thread.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from robotracer.ros.node_runtime import configure_environment, declare_parameters, lower_cpu_priority

DEFAULTS = {
    "seed": -1,  # -1 = the default layout (cup right of the plate as seen from the camera)
    "camera_rate_hz": 15.0,
    "joint_state_rate_hz": 100.0,
    "clock_rate_hz": 200.0,
    "real_time_factor": 1.0,  # 0 = as fast as the CPU allows
    "base_frame": "base_link",
    "camera_frame": "camera_color_optical_frame",
    "camera_xyz": [0.0, 0.0, 0.0],
    "camera_rpy": [0.0, 0.0, 0.0],
    "image_width": 640,
    "image_height": 480,
    "camera_fovy_deg": 45.0,
    # added to the process's nice value: the simulator stands in for the world (which costs a real
    # robot no CPU), so it yields the CPU to the robot stack; 0 = same priority as the stack
    "cpu_nice": 0,
}


class SimNodeCore:
    """Scheduling of one simulated time step: what to publish when (no ROS; unit-tested)."""

    def __init__(self, rates_hz: dict[str, float]) -> None:
        self.periods = {k: 1.0 / v for k, v in rates_hz.items() if v > 0}
        self.next_due = {k: 0.0 for k in self.periods}

    def due(self, sim_time: float) -> list[str]:
        out = []
        for k, period in self.periods.items():
            if sim_time + 1e-9 >= self.next_due[k]:
                out.append(k)
                # keep the schedule on the grid; skip missed slots instead of bursting
                self.next_due[k] = max(self.next_due[k] + period, sim_time + period * 0.5)
        return out

    def reset(self) -> None:
        self.next_due = {k: 0.0 for k in self.periods}


def make_sim(p: dict):
    from robotracer.sim.tabletop import TabletopConfig, TabletopSim

    cfg = TabletopConfig(
        seed=None if p["seed"] < 0 else int(p["seed"]),
        width=int(p["image_width"]),
        height=int(p["image_height"]),
        camera_xyz=tuple(float(x) for x in p["camera_xyz"]),
        camera_rpy=tuple(float(x) for x in p["camera_rpy"]),
        fovy=float(p["camera_fovy_deg"]),
    )
    return TabletopSim(cfg)


def main() -> int:
    configure_environment()
    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import CameraInfo, Image, JointState
    from std_msgs.msg import Float64, Header
    from visualization_msgs.msg import MarkerArray

    from robotracer.msg import LabelMap
    from robotracer.ros import conversions as conv
    from robotracer.ros import topics
    from robotracer.srv import ResetSim

    rclpy.init()
    node = Node("sim")
    p = declare_parameters(node, DEFAULTS)
    if node.get_parameter("use_sim_time").value:
        # the simulator is the clock: it must not wait for /clock itself
        node.set_parameters([rclpy.parameter.Parameter("use_sim_time", value=False)])
    lower_cpu_priority(node, int(p["cpu_nice"]))
    try:
        sim = make_sim(p)
    except Exception as exc:
        node.get_logger().fatal(f"cannot build the simulation: {exc}")
        rclpy.try_shutdown()
        return 1

    latched = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)
    pub_clock = node.create_publisher(Clock, "/clock", 10)
    pub_joints = node.create_publisher(JointState, topics.JOINT_STATES, 10)
    pub_rgb = node.create_publisher(Image, topics.COLOR_IMAGE, qos_profile_sensor_data)
    pub_depth = node.create_publisher(Image, topics.DEPTH_IMAGE, qos_profile_sensor_data)
    pub_info = node.create_publisher(CameraInfo, topics.CAMERA_INFO, qos_profile_sensor_data)
    pub_seg = node.create_publisher(Image, topics.SEGMENTATION_IMAGE, qos_profile_sensor_data)
    pub_labels = node.create_publisher(LabelMap, topics.SEGMENTATION_LABELS, latched)
    pub_objects = node.create_publisher(MarkerArray, topics.SIM_OBJECT_POSES, latched)

    lock = threading.Lock()
    pending = {"arm": None, "gripper": None, "reset": None}
    reset_done = threading.Event()
    reset_result = {}

    def on_arm(msg: JointState) -> None:
        names = sim.arm_joint_names
        try:
            q = np.array([msg.position[list(msg.name).index(n)] for n in names]) if msg.name else np.array(msg.position)
        except ValueError:
            node.get_logger().warning(f"arm command ignored: joint names {list(msg.name)} do not cover {names}")
            return
        if q.shape != (len(names),) or not np.all(np.isfinite(q)):
            node.get_logger().warning("arm command ignored: wrong size or non-finite positions")
            return
        with lock:
            pending["arm"] = q

    def on_gripper(msg: Float64) -> None:
        if np.isfinite(msg.data):
            with lock:
                pending["gripper"] = float(np.clip(msg.data, 0.0, 1.0))

    def on_reset(request, response):
        reset_done.clear()
        with lock:
            pending["reset"] = int(request.seed)
        if not reset_done.wait(30.0):
            response.success, response.message = False, "simulation did not reset within 30 s"
            return response
        response.success = reset_result.get("ok", False)
        response.message = reset_result.get("message", "")
        response.objects = list(reset_result.get("objects", []))
        return response

    node.create_subscription(JointState, topics.ARM_COMMAND, on_arm, 10)
    node.create_subscription(Float64, topics.GRIPPER_COMMAND, on_gripper, 10)
    node.create_service(ResetSim, topics.SIM_RESET, on_reset)

    executor = MultiThreadedExecutor(num_threads=2)
    executor.add_node(node)
    spin_thread = threading.Thread(target=executor.spin, daemon=True)
    spin_thread.start()

    base_frame, cam_frame = p["base_frame"], p["camera_frame"]
    schedule = SimNodeCore(
        {"clock": p["clock_rate_hz"], "joints": p["joint_state_rate_hz"], "camera": p["camera_rate_hz"]}
    )
    rtf = float(p["real_time_factor"])
    joint_names = list(sim.arm_joint_names) + ["gripper"]

    # ROS time must never run backwards, but a reset restarts the physics clock at 0:
    # published stamps are the physics time plus the time accumulated before the last reset.
    clock = {"offset": 0.0}

    def now() -> float:
        return clock["offset"] + sim.time

    def publish_labels() -> None:
        header = Header(stamp=conv.seconds_to_time(now()), frame_id=cam_frame)
        pub_labels.publish(conv.dict_to_label_map(sim.labels, "sim_ground_truth", header))

    publish_labels()
    node.get_logger().info(
        f"simulation ready: objects {', '.join(sim.object_names)}; camera {p['image_width']}x{p['image_height']} "
        f"at {p['camera_rate_hz']} Hz; real-time factor {rtf or 'max'}"
    )
    wall0, sim0 = time.perf_counter(), sim.time
    try:
        while rclpy.ok():
            with lock:
                arm, grip, reset_seed = pending["arm"], pending["gripper"], pending["reset"]
                pending["arm"] = pending["gripper"] = pending["reset"] = None
            if reset_seed is not None:
                try:
                    clock["offset"] = now() + sim.timestep
                    sim.reset(None if reset_seed < 0 else reset_seed)
                    reset_result.update(ok=True, message=f"reset with seed {reset_seed}", objects=sim.object_names)
                except Exception as exc:  # report, keep running
                    reset_result.update(ok=False, message=f"reset failed: {exc}", objects=[])
                schedule.reset()
                publish_labels()
                wall0, sim0 = time.perf_counter(), sim.time
                arm = grip = None  # commands that came in with the reset were meant for the old state
                reset_done.set()
            if arm is not None:
                sim.set_arm_targets(arm)
            if grip is not None:
                sim.set_gripper(grip)
            if rtf > 0:
                behind = (time.perf_counter() - wall0) * rtf - (sim.time - sim0)
                if behind <= 0:
                    time.sleep(min(-behind / rtf, 0.002))
                    continue
            sim.step()
            for what in schedule.due(sim.time):
                stamp = conv.seconds_to_time(now())
                if what == "clock":
                    pub_clock.publish(Clock(clock=stamp))
                elif what == "joints":
                    q = list(sim.arm_positions()) + [sim.gripper_closure()]
                    dq = list(sim.arm_velocities()) + [0.0]
                    pub_joints.publish(conv.joint_state(joint_names, q, dq, stamp))
                elif what == "camera":
                    frame = sim.render()
                    header = Header(stamp=stamp, frame_id=cam_frame)
                    pub_rgb.publish(conv.numpy_to_image(frame.rgb, "rgb8", header))
                    pub_depth.publish(conv.numpy_to_image(frame.depth, "32FC1", header))
                    pub_seg.publish(conv.numpy_to_image(frame.segmentation, "16UC1", header))
                    pub_info.publish(conv.intrinsics_to_camera_info(sim.intrinsics, header))
                    pub_objects.publish(
                        conv.poses_to_markers(sim.object_poses(), Header(stamp=stamp, frame_id=base_frame))
                    )
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
