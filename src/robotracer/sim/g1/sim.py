"""The simulated G1: motor-driver PD law, the onboard standing controller and the arm-SDK blend.

Command layers, as on the real robot:

1. **standing controller** (the robot's own balance-stand service): PD on every motor towards
   :data:`~robotracer.robots.g1.joints.STAND_POSTURE`, ankles corrected from the pelvis IMU.
2. **arm SDK** (``rt/arm_sdk``): for the waist and arm motors the command is blended with the
   standing controller's, ``cmd = w * arm_sdk + (1 - w) * standing`` with ``w`` the weight sent in
   ``motor_cmd[29].q``.
3. **low-level** (``rt/lowcmd``): when present, it replaces both for every motor it enables
   (``mode`` = 1), as when the real robot is in debug mode.

Each motor then applies ``tau = tau_ff + kp (q_des - q) + kd (dq_des - dq)``, clipped to its limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import mujoco
import numpy as np

from robotracer.robots.g1 import joints as J
from robotracer.sim.g1.scene import G1Scene, G1SceneConfig, build_scene


@dataclass
class MotorCommand:
    """PD targets for ``n`` motors: ``(n,)`` float64 each; ``enabled`` ``(n,)`` bool (``mode`` != 0)."""

    q: np.ndarray
    dq: np.ndarray
    kp: np.ndarray
    kd: np.ndarray
    tau: np.ndarray
    enabled: np.ndarray

    @classmethod
    def zeros(cls, n: int) -> "MotorCommand":
        z = np.zeros(n)
        return cls(z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), np.zeros(n, dtype=bool))

    @classmethod
    def hold(cls, q: np.ndarray, kp: np.ndarray, kd: np.ndarray) -> "MotorCommand":
        n = len(q)
        return cls(np.array(q, float), np.zeros(n), np.array(kp, float), np.array(kd, float), np.zeros(n), np.ones(n, bool))

    def torque(self, q: np.ndarray, dq: np.ndarray) -> np.ndarray:
        """``(n,)`` PD torque of the enabled motors (0 for disabled ones)."""
        tau = self.tau + self.kp * (self.q - q) + self.kd * (self.dq - dq)
        return np.where(self.enabled, tau, 0.0)


def blend(a: MotorCommand, b: MotorCommand, weight: float) -> MotorCommand:
    """``weight * b + (1 - weight) * a`` field by field (the arm-SDK fade)."""
    w = float(np.clip(weight, 0.0, 1.0))
    mix = lambda x, y: (1.0 - w) * x + w * y  # noqa: E731
    return MotorCommand(mix(a.q, b.q), mix(a.dq, b.dq), mix(a.kp, b.kp), mix(a.kd, b.kd), mix(a.tau, b.tau), a.enabled | b.enabled)


@dataclass(frozen=True)
class StandingController:
    """The emulated onboard balance stand: posture PD plus ankle pitch/roll correction from the IMU.

    Attributes:
        posture: ``(29,)`` target joint angles (motor order).
        kp, kd: ``(29,)`` gains.
        ankle_feedback: radians of ankle correction per radian of pelvis pitch / roll.
    """

    posture: np.ndarray = field(default_factory=J.STAND_POSTURE.copy)
    kp: np.ndarray = field(default_factory=J.DEFAULT_KP.copy)
    kd: np.ndarray = field(default_factory=J.DEFAULT_KD.copy)
    ankle_feedback: float = 2.0

    def command(self, pelvis_rpy: np.ndarray) -> MotorCommand:
        q = self.posture.copy()
        roll, pitch = pelvis_rpy[0], pelvis_rpy[1]
        q[[4, 10]] += self.ankle_feedback * pitch
        q[[5, 11]] -= self.ankle_feedback * roll
        return MotorCommand.hold(q, self.kp, self.kd)


def quat_to_rpy(quat_wxyz: np.ndarray) -> np.ndarray:
    """``(3,)`` roll, pitch, yaw (rad, fixed-axis x-y-z) of a unit quaternion ``(w, x, y, z)``."""
    w, x, y, z = quat_wxyz
    roll = np.arctan2(2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
    pitch = np.arcsin(np.clip(2 * (w * y - z * x), -1.0, 1.0))
    yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
    return np.array([roll, pitch, yaw])


@dataclass(frozen=True)
class ImuReading:
    """Pelvis IMU: ``quaternion`` (w, x, y, z), ``rpy`` rad, ``gyroscope`` rad/s and ``accelerometer`` m/s², ``(3,)`` each."""

    quaternion: np.ndarray
    rpy: np.ndarray
    gyroscope: np.ndarray
    accelerometer: np.ndarray


class GraspAssist:
    """Simulation grasp model: a weld between a closed hand's palm and the object it touches.

    The Dex3 fingers close for real; holding the object uses a weld constraint that is switched on
    when the hand is at least ``close_threshold`` closed and in contact with an object, and off when
    it opens below ``open_threshold``. It stands in for a friction grasp, which the Dex3 model does
    not yet hold reliably in this scene.
    """

    def __init__(self, scene: G1Scene, model: mujoco.MjModel, close_threshold: float = 0.6, open_threshold: float = 0.3):
        self._scene, self._model = scene, model
        self.close_threshold, self.open_threshold = close_threshold, open_threshold
        self._eq = {}
        self._hand_bodies = {}
        for side in scene.hand_actuator:
            palm = model.body(f"{side}_wrist_yaw_link").id
            bodies = {b for b in range(model.nbody) if self._descends(b, palm)}
            self._hand_bodies[side] = bodies
            for name in scene.object_names:
                self._eq[(side, name)] = model.equality(f"grasp_{side}_{name}").id
        self._object_body = {n: model.body(n).id for n in scene.object_names}
        self.held: dict[str, str | None] = {side: None for side in scene.hand_actuator}

    def _descends(self, body: int, root: int) -> bool:
        while body > 0:
            if body == root:
                return True
            body = self._model.body_parentid[body]
        return False

    def closure(self, data: mujoco.MjData, side: str) -> float:
        """How closed a hand is, 0 (open posture) .. 1 (closed posture), from its finger joints."""
        q = data.qpos[self._scene.hand_qpos[side]]
        o, c = J.HAND_OPEN[side], J.HAND_CLOSED[side]
        span = c - o
        mask = np.abs(span) > 1e-6
        return float(np.clip(np.mean((q[mask] - o[mask]) / span[mask]), 0.0, 1.0))

    def update(self, data: mujoco.MjData) -> None:
        for side in self.held:
            closure = self.closure(data, side)
            if self.held[side] is None and closure >= self.close_threshold:
                touched = self._touched_object(data, side)
                if touched is not None:
                    self._attach(data, side, touched)
            elif self.held[side] is not None and closure <= self.open_threshold:
                data.eq_active[self._eq[(side, self.held[side])]] = 0
                self.held[side] = None

    def _touched_object(self, data: mujoco.MjData, side: str) -> str | None:
        hand = self._hand_bodies[side]
        bodyid = self._model.geom_bodyid
        for c in data.contact[: data.ncon]:
            b1, b2 = bodyid[c.geom1], bodyid[c.geom2]
            for a, b in ((b1, b2), (b2, b1)):
                if a in hand:
                    for name, ob in self._object_body.items():
                        if b == ob:
                            return name
        return None

    def _attach(self, data: mujoco.MjData, side: str, name: str) -> None:
        eq = self._eq[(side, name)]
        b1 = self._model.eq_obj1id[eq]
        b2 = self._model.eq_obj2id[eq]
        # relpose = pose of body2 in body1's frame, anchor at body2's origin
        R1 = data.xmat[b1].reshape(3, 3)
        relpos = R1.T @ (data.xpos[b2] - data.xpos[b1])
        q1inv = np.zeros(4)
        mujoco.mju_negQuat(q1inv, data.xquat[b1])
        relquat = np.zeros(4)
        mujoco.mju_mulQuat(relquat, q1inv, data.xquat[b2])
        eq_data = self._model.eq_data[eq]  # the weld's relative pose lives in the model
        eq_data[:3] = 0.0
        eq_data[3:6] = relpos
        eq_data[6:10] = relquat
        data.eq_active[eq] = 1
        self.held[side] = name


class G1Sim:
    """MuJoCo G1 at the table, stepped at the model timestep with the command layers above.

    Args:
        config: the scene.
        standing: the onboard standing controller.
        grasp_assist: hold grasped objects with :class:`GraspAssist` (hands model only).
    """

    def __init__(self, config: G1SceneConfig = G1SceneConfig(), standing: StandingController | None = None, grasp_assist: bool = True):
        self.scene = build_scene(config, grasp_welds=grasp_assist)
        self.model = self.scene.model
        self.data = mujoco.MjData(self.model)
        self.standing = standing or StandingController()
        self.grasp = GraspAssist(self.scene, self.model) if (grasp_assist and self.scene.has_hands) else None
        self.lowcmd: MotorCommand | None = None
        self.arm_sdk: MotorCommand | None = None
        self.arm_sdk_weight = 0.0
        self.hand_cmd: dict[str, MotorCommand] = {}
        self.last_body_torque = np.zeros(J.NUM_BODY_MOTORS)
        self.reset()

    @property
    def timestep(self) -> float:
        return float(self.model.opt.timestep)

    @property
    def time(self) -> float:
        return float(self.data.time)

    def reset(self) -> None:
        """Scene back to its start; the clock keeps running (``rt/lowstate`` ticks never go backwards)."""
        t = float(self.data.time)
        self.scene.reset(self.data)
        self.data.time = t
        self.lowcmd, self.arm_sdk, self.arm_sdk_weight = None, None, 0.0
        self.hand_cmd = {
            side: MotorCommand.hold(J.HAND_OPEN[side], J.HAND_KP, J.HAND_KD) for side in self.scene.hand_actuator
        }
        if self.grasp is not None:
            self.data.eq_active[:] = 0
            self.grasp.held = {side: None for side in self.grasp.held}

    # -- commands ---------------------------------------------------------------------------
    def set_lowcmd(self, cmd: MotorCommand | None) -> None:
        """Low-level command for the 29 body motors (``None`` hands control back to standing)."""
        self.lowcmd = cmd

    def set_arm_sdk(self, cmd: MotorCommand, weight: float) -> None:
        """Arm-SDK command (29 slots, only waist and arms used) with its blend weight in [0, 1]."""
        self.arm_sdk, self.arm_sdk_weight = cmd, float(np.clip(weight, 0.0, 1.0))

    def set_hand(self, side: str, cmd: MotorCommand) -> None:
        """Dex3 command for one hand (7 motors, Dex3 order)."""
        if side not in self.scene.hand_actuator:
            raise ValueError(f"no hand {side!r} in this model; hands: {', '.join(self.scene.hand_actuator) or 'none'}")
        self.hand_cmd[side] = cmd

    # -- state ------------------------------------------------------------------------------
    def motor_q(self) -> np.ndarray:
        """``(29,)`` joint angles, motor order."""
        return self.data.qpos[self.scene.body_qpos].copy()

    def motor_dq(self) -> np.ndarray:
        """``(29,)`` joint velocities, motor order."""
        return self.data.qvel[self.scene.body_dof].copy()

    def hand_q(self, side: str) -> np.ndarray:
        return self.data.qpos[self.scene.hand_qpos[side]].copy()

    def hand_dq(self, side: str) -> np.ndarray:
        return self.data.qvel[self.scene.hand_dof[side]].copy()

    def imu(self) -> ImuReading:
        d, m = self.data, self.model
        pelvis = m.body("pelvis").id
        quat = d.xquat[pelvis].copy()
        R = d.xmat[pelvis].reshape(3, 3)
        gyro = R.T @ d.cvel[pelvis][:3]
        acc = np.zeros(6)
        mujoco.mj_objectAcceleration(m, d, mujoco.mjtObj.mjOBJ_BODY, pelvis, acc, 1)
        acc_world = acc[3:] - m.opt.gravity
        return ImuReading(quat, quat_to_rpy(quat), gyro, R.T @ acc_world)

    def pelvis_height(self) -> float:
        return float(self.data.xpos[self.model.body("pelvis").id][2])

    def pelvis_tilt(self) -> float:
        """Angle between the pelvis z axis and the world vertical, radians."""
        R = self.data.xmat[self.model.body("pelvis").id].reshape(3, 3)
        return float(np.arccos(np.clip(R[2, 2], -1.0, 1.0)))

    def object_position(self, name: str) -> np.ndarray:
        """``(3,)`` world position of a table object's bottom centre (its body origin)."""
        if name not in self.scene.object_names:
            raise KeyError(f"no object named {name!r}; objects: {', '.join(self.scene.object_names)}")
        return self.data.xpos[self.model.body(name).id].copy()

    def object_top(self, name: str) -> np.ndarray:
        """``(3,)`` world position of an object's top-centre point (what an object-centric trace follows)."""
        obj = self.scene.config.objects[self.scene.object_names.index(name)]
        R = self.data.xmat[self.model.body(name).id].reshape(3, 3)
        return self.object_position(name) + R[:, 2] * obj.height

    def object_pose(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """World pose of a table object: bottom centre ``(3,)`` and quaternion ``(4,)`` (w, x, y, z)."""
        return self.object_position(name), self.data.xquat[self.model.body(name).id].copy()

    def head_camera_pose(self) -> np.ndarray:
        """``(4, 4)`` world pose of the head camera's optical frame (x right, y down, z forward)."""
        cam = self.model.camera("head_camera").id
        T = np.eye(4)
        T[:3, :3] = self.data.cam_xmat[cam].reshape(3, 3) @ np.diag([1.0, -1.0, -1.0])
        T[:3, 3] = self.data.cam_xpos[cam]
        return T

    def body_pose(self, body: str) -> np.ndarray:
        """``(4, 4)`` world pose of a body."""
        T = np.eye(4)
        T[:3, :3] = self.data.xmat[self.model.body(body).id].reshape(3, 3)
        T[:3, 3] = self.data.xpos[self.model.body(body).id]
        return T

    # -- stepping ---------------------------------------------------------------------------
    def body_command(self) -> MotorCommand:
        """The effective body command after the standing / arm-SDK / low-level layering."""
        rpy = quat_to_rpy(self.data.xquat[self.model.body("pelvis").id])
        cmd = self.standing.command(rpy)
        if self.arm_sdk is not None and self.arm_sdk_weight > 0.0:
            idx = np.array(J.ARM_SDK_JOINTS)
            base = MotorCommand(*(getattr(cmd, f)[idx] for f in ("q", "dq", "kp", "kd", "tau", "enabled")))
            sdk = MotorCommand(*(getattr(self.arm_sdk, f)[idx] for f in ("q", "dq", "kp", "kd", "tau", "enabled")))
            mixed = blend(base, sdk, self.arm_sdk_weight)
            for f in ("q", "dq", "kp", "kd", "tau", "enabled"):
                getattr(cmd, f)[idx] = getattr(mixed, f)
        if self.lowcmd is not None:
            on = self.lowcmd.enabled
            for f in ("q", "dq", "kp", "kd", "tau"):
                getattr(cmd, f)[on] = getattr(self.lowcmd, f)[on]
        return cmd

    def step(self, n: int = 1) -> None:
        """Advance ``n`` physics steps, recomputing motor torques every step (the motor drivers' PD loop)."""
        m, d, sc = self.model, self.data, self.scene
        for _ in range(n):
            cmd = self.body_command()
            tau = cmd.torque(d.qpos[sc.body_qpos], d.qvel[sc.body_dof])
            d.ctrl[sc.body_actuator] = tau
            self.last_body_torque = np.clip(tau, m.actuator_ctrlrange[sc.body_actuator, 0], m.actuator_ctrlrange[sc.body_actuator, 1])
            for side, hcmd in self.hand_cmd.items():
                d.ctrl[sc.hand_actuator[side]] = hcmd.torque(d.qpos[sc.hand_qpos[side]], d.qvel[sc.hand_dof[side]])
            mujoco.mj_step(m, d)
            if self.grasp is not None:
                self.grasp.update(d)
