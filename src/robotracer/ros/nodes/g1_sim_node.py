"""G1 sim node: the MuJoCo Unitree G1 at a table, driven through unitree_sdk2py, on ROS topics.

The robot side speaks only the SDK's DDS topics (``rt/lowstate``, ``rt/arm_sdk``, ``rt/dex3/*``,
on the ``sdk_domain_id`` domain of the ``sdk_interface`` network interface, loopback here), served
by :class:`~robotracer.sim.g1.bridge.G1SdkBridge` exactly as for the real robot; a controller
reaches the robot that way only. The ROS side publishes the same topics as the UR5e simulation:
``/clock`` (simulated time, continuous across resets), ``/joint_states`` (29 body joints then
the Dex3 hand joints), the head camera (rgb8 + 32FC1 metres with identical stamps, CameraInfo),
the ground-truth segmentation (16UC1 + ``LabelMap`` named ``sim_ground_truth``), the objects'
ground-truth poses (``/sim/object_poses``, in the ``pelvis`` frame of the standing pose at the
last reset, so the robot swaying does not shift them), the pelvis's ground-truth pose in the world
(``/sim/base_pose``, with the joint states) and ``/sim/reset``.

Physics and the SDK bridge run in the main thread, everything on the simulation clock; the head
camera renders in a process of its own (:class:`~robotracer.sim.g1.camera_process.HeadCameraProcess`):
when a frame is due the physics thread hands it the state (waiting for the previous frame if it is
still being drawn, so frames stay on the ``camera_rate_hz`` schedule of simulated time) and the
frame is published, stamped with the simulation time of that state, when it comes back. ROS
callbacks spin in a background executor thread.
"""

from __future__ import annotations

import threading

import numpy as np

from robotracer.ros.node_runtime import configure_environment, declare_parameters

DEFAULTS = {
    "seed": -1,  # the G1 scene has fixed layouts: -1 only
    "layout": "head_camera",  # robotracer.sim.g1.scene.LAYOUTS: head_camera (all in view) | default
    "sdk_domain_id": 1,  # unitree_sdk2py (cyclonedds) domain, separate from ROS_DOMAIN_ID
    "sdk_interface": "lo",
    "lowstate_rate_hz": 500.0,  # rt/lowstate, as on the real robot
    "camera_rate_hz": 10.0,  # simulated time
    "camera_render_threads": 0,  # Mesa llvmpipe threads of the camera process (0: one per CPU)
    "joint_state_rate_hz": 50.0,
    "clock_rate_hz": 100.0,
    "settle_s": 1.0,  # simulated seconds the robot stands still after start and reset before it is served
    "real_time": True,  # pace physics to the wall clock (false: as fast as the CPU allows)
    "variant": "g1_with_hands",  # g1_with_hands | g1
    "pelvis_mode": "free",  # free (balancing) | fixed
    "base_frame": "pelvis",
    "camera_frame": "head_camera_optical_frame",
    "camera_xyz": [0.0, 0.0, 0.0],
    "camera_rpy": [0.0, 0.0, 0.0],
}


def joint_names(sim) -> list[str]:
    """Names published on ``/joint_states``: the 29 body joints in motor order, then each hand's 7."""
    from robotracer.robots.g1 import joints as J

    names = list(J.BODY_JOINTS)
    for side in sim.scene.hand_actuator:
        names.extend(J.hand_joint_names(side))
    return names


def joint_values(sim) -> tuple[np.ndarray, np.ndarray]:
    """Positions and velocities ``(N,)`` in :func:`joint_names` order."""
    q, dq = [sim.motor_q()], [sim.motor_dq()]
    for side in sim.scene.hand_actuator:
        q.append(sim.hand_q(side))
        dq.append(sim.hand_dq(side))
    return np.concatenate(q), np.concatenate(dq)


def object_poses_in_base(sim, T_world_pelvis: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each table object's bottom centre ``(3,)`` and quaternion ``(4,)`` (w, x, y, z) in the pelvis frame.

    ``T_world_pelvis`` ``(4, 4)``: the pelvis pose the poses are expressed in — the standing pose at
    the last reset, so that the ground truth of a placement is not shifted by the robot swaying.
    """
    from robotracer.geometry.transforms import RigidTransform

    T_pelvis_world = np.linalg.inv(T_world_pelvis)
    out = {}
    for name in sim.scene.object_names:
        p, q = sim.object_pose(name)
        T = T_pelvis_world @ RigidTransform.from_xyz_quat_wxyz(p, q).matrix
        x, y, z, w = RigidTransform.from_matrix(T).quat_xyzw
        out[name] = (T[:3, 3], np.array([w, x, y, z]))
    return out


def main() -> int:
    configure_environment()
    import rclpy
    from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
    from rclpy.node import Node
    from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy, qos_profile_sensor_data
    from rosgraph_msgs.msg import Clock
    from sensor_msgs.msg import CameraInfo, Image, JointState
    from std_msgs.msg import Header
    from visualization_msgs.msg import MarkerArray

    from robotracer.geometry.transforms import RigidTransform
    from robotracer.msg import LabelMap
    from robotracer.ros import conversions as conv
    from robotracer.ros import topics
    from robotracer.ros.nodes.sim_node import SimNodeCore
    from robotracer.srv import ResetSim

    rclpy.init()
    node = Node("sim")
    p = declare_parameters(node, DEFAULTS)
    log = node.get_logger()
    if node.get_parameter("use_sim_time").value:
        # the simulator is the clock: it must not wait for /clock itself
        node.set_parameters([rclpy.parameter.Parameter("use_sim_time", value=False)])
    try:
        if int(p["seed"]) >= 0:
            raise ValueError(f"the G1 scene has fixed object layouts (parameter layout); use seed -1 (got {p['seed']})")
        from robotracer.sim.g1.bridge import BridgeConfig, G1SdkBridge
        from robotracer.sim.g1.camera_process import HeadCameraProcess
        from robotracer.sim.g1.scene import LAYOUTS, G1SceneConfig
        from robotracer.sim.g1.sim import G1Sim

        if p["layout"] not in LAYOUTS:
            raise ValueError(f"unknown layout {p['layout']!r}; choose one of: {', '.join(LAYOUTS)}")
        scene = G1SceneConfig(variant=str(p["variant"]), pelvis_mode=str(p["pelvis_mode"]), objects=LAYOUTS[p["layout"]])
        sim = G1Sim(scene)
        bridge_config = BridgeConfig(
            domain_id=int(p["sdk_domain_id"]), interface=str(p["sdk_interface"]),
            state_hz=float(p["lowstate_rate_hz"]), camera_hz=0.0, realtime=bool(p["real_time"]),
        )  # fmt: skip
        camera = HeadCameraProcess(sim.scene, render_threads=int(p["camera_render_threads"]))
    except Exception as exc:
        log.fatal(f"cannot build the G1 simulation: {exc}")
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
    pub_base = node.create_publisher(MarkerArray, topics.SIM_BASE_POSE, 10)

    reset = {"requested": threading.Event(), "done": threading.Event(), "seed": -1, "ok": False, "message": ""}

    def on_reset(request, response):
        reset["done"].clear()
        reset["seed"] = int(request.seed)
        reset["requested"].set()
        if not reset["done"].wait(30.0):
            response.success, response.message = False, "simulation did not reset within 30 s"
            return response
        response.success, response.message = reset["ok"], reset["message"]
        response.objects = list(sim.scene.object_names) if reset["ok"] else []
        return response

    node.create_service(ResetSim, topics.SIM_RESET, on_reset)
    executor = MultiThreadedExecutor(num_threads=2)
    executor.add_node(node)
    spin_thread = threading.Thread(target=executor.spin, daemon=True)
    spin_thread.start()

    base_frame, cam_frame = str(p["base_frame"]), str(p["camera_frame"])
    names = joint_names(sim)
    schedule = SimNodeCore(
        {"clock": p["clock_rate_hz"], "joints": p["joint_state_rate_hz"], "camera": p["camera_rate_hz"]}
    )

    def publish_labels() -> None:
        header = Header(stamp=conv.seconds_to_time(sim.time), frame_id=cam_frame)
        pub_labels.publish(conv.dict_to_label_map(camera.labels, "sim_ground_truth", header))

    standing = {}  # the pelvis frame of the ground truth, set when the robot has settled after a reset

    def settle() -> None:
        """Let the robot settle on its feet (standing controller only), then take its pelvis frame."""
        sim.step(max(0, int(round(float(p["settle_s"]) / sim.timestep))))
        standing["T_world_pelvis"] = sim.body_pose("pelvis")

    settle()

    def publish_objects(stamp) -> None:
        poses = object_poses_in_base(sim, standing["T_world_pelvis"])
        pub_objects.publish(conv.poses_to_markers(poses, Header(stamp=stamp, frame_id=base_frame)))

    def publish_frame(frame) -> None:
        # in the camera's receiver thread, stamped with the simulation time of the state it shows
        header = Header(stamp=conv.seconds_to_time(frame.stamp), frame_id=cam_frame)
        pub_rgb.publish(conv.numpy_to_image(frame.rgb, "rgb8", header))
        pub_depth.publish(conv.numpy_to_image(frame.depth, "32FC1", header))
        pub_seg.publish(conv.numpy_to_image(frame.segmentation, "16UC1", header))
        pub_info.publish(conv.intrinsics_to_camera_info(camera.intrinsics, header))

    camera.on_frame = publish_frame

    def on_step(_sim) -> None:
        # between two physics steps, in the physics thread: the simulation clock never runs backwards
        if reset["requested"].is_set():
            reset["requested"].clear()
            if reset["seed"] >= 0:
                reset["ok"], reset["message"] = False, f"the G1 scene has fixed object layouts; use seed -1 (got {reset['seed']})"
            else:
                drift = np.linalg.norm(sim.body_pose("pelvis")[:3, 3] - standing["T_world_pelvis"][:3, 3])
                log.info(f"reset; the pelvis had moved {100 * drift:.1f} cm from its standing pose")
                sim.reset()
                settle()
                reset["ok"], reset["message"] = True, f"reset to the {p['layout']} layout"
                publish_labels()
                publish_objects(conv.seconds_to_time(sim.time))
            reset["done"].set()
        if not rclpy.ok():
            bridge.stop()
            return
        for what in schedule.due(sim.time):
            stamp = conv.seconds_to_time(sim.time)
            if what == "clock":
                pub_clock.publish(Clock(clock=stamp))
            elif what == "joints":
                q, dq = joint_values(sim)
                pub_joints.publish(conv.joint_state(names, q, dq, stamp))
                pelvis = sim.body_pose("pelvis")
                quat_xyzw = RigidTransform.from_matrix(pelvis).quat_xyzw
                pelvis_pose = {"pelvis": (pelvis[:3, 3], np.roll(quat_xyzw, 1))}
                pub_base.publish(conv.poses_to_markers(pelvis_pose, Header(stamp=stamp, frame_id="world"), ns="base"))
            elif what == "camera":
                camera.submit(sim.data)  # published by publish_frame when drawn
                publish_objects(stamp)

    try:
        bridge = G1SdkBridge(sim, bridge_config, on_step=on_step)
    except Exception as exc:
        log.fatal(f"cannot open the unitree_sdk2py channels on domain {p['sdk_domain_id']} ({p['sdk_interface']}): {exc}")
        camera.close()
        executor.shutdown(timeout_sec=1.0)
        rclpy.try_shutdown()
        return 1
    publish_labels()
    log.info(
        f"G1 simulation ready: objects {', '.join(sim.scene.object_names)}; SDK on domain {p['sdk_domain_id']} "
        f"({p['sdk_interface']}), rt/lowstate {p['lowstate_rate_hz']} Hz; camera {camera.intrinsics.width}x"
        f"{camera.intrinsics.height} at {p['camera_rate_hz']} Hz sim time"
    )
    stats = None
    try:
        stats = bridge.run()
    except (KeyboardInterrupt, ExternalShutdownException):
        stats = bridge.stats
    finally:
        if stats is not None:
            log.info(f"G1 simulation stopped: {stats.sim_seconds:.1f} s simulated, real-time factor {stats.real_time_factor:.2f}")
        bridge.close()
        camera.close()
        executor.shutdown(timeout_sec=1.0)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
