"""The UR5e robot contract over the in-process MuJoCo tabletop (no ROS, no network)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from robotracer.robots.base import ArmAction, ArmObservation, ArmRobot, RobotConfig, clip_joint_command, register_robot
from robotracer.sim.tabletop import TabletopConfig, TabletopSim
from robotracer.sim.ur5e_model import ARM_JOINT_NAMES


@dataclass(frozen=True)
class UR5eMujocoConfig(RobotConfig):
    """``sim``: the scene; each ``send_action`` advances physics by ``control_period`` when ``step_on_send``."""

    sim: TabletopConfig = field(default_factory=TabletopConfig)
    control_period: float = 0.01
    max_joint_velocity: float = np.pi / 2
    step_on_send: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        ratio = self.control_period / self.sim.timestep
        if abs(ratio - round(ratio)) > 1e-6:
            raise ValueError(
                f"control_period {self.control_period} s must be a multiple of the physics timestep {self.sim.timestep} s"
            )


@register_robot("ur5e_mujoco", UR5eMujocoConfig)
class UR5eMujocoRobot(ArmRobot):
    """Drives :class:`TabletopSim`'s arm through its position actuators; pass ``sim`` to share a running one."""

    joint_names = ARM_JOINT_NAMES

    def __init__(self, config: UR5eMujocoConfig = UR5eMujocoConfig(), sim: TabletopSim | None = None) -> None:
        self.config = config
        self.sim = sim
        self._owns_sim = sim is None
        self._connected = False
        self._steps = int(round(config.control_period / config.sim.timestep))

    @property
    def is_connected(self) -> bool:
        return self._connected

    def connect(self) -> None:
        if self.sim is None:
            self.sim = TabletopSim(self.config.sim)
        self._connected = True

    def disconnect(self) -> None:
        if not self._connected:
            return
        self.stop()
        if self._owns_sim and self.sim is not None:
            self.sim.close()
            self.sim = None
        self._connected = False

    def get_observation(self) -> ArmObservation:
        self._require_connected()
        s = self.sim
        return ArmObservation(s.arm_joint_names, s.arm_positions(), s.arm_velocities(), s.gripper_closure(), s.time)

    def send_action(self, q_target: np.ndarray, gripper: float) -> ArmAction:
        self._require_connected()
        s = self.sim
        q, clipped = clip_joint_command(
            q_target, s.arm_targets(), s.arm_joint_limits, self.config.max_joint_velocity, self.config.control_period
        )
        g = float(np.clip(gripper, 0.0, 1.0))
        s.set_arm_targets(q)
        s.set_gripper(g)
        if self.config.step_on_send:
            s.step(self._steps)
        return ArmAction(q, g, clipped or g != gripper)

    def stop(self) -> None:
        self._require_connected()
        self.sim.set_arm_targets(self.sim.arm_positions())
