"""Unitree G1 (29 DoF) motor order, Dex3 hand order and default gains.

The motor index of a joint is its slot in ``LowCmd_.motor_cmd`` / ``LowState_.motor_state``
(unitree_hg messages, 35 slots). The order is the one of Unitree's G1 SDK examples
(``g1_arm7_sdk_dds_example``) and of the MuJoCo Menagerie ``g1`` actuators.
"""

from __future__ import annotations

import numpy as np

NUM_MOTOR_SLOTS = 35
"""``LowCmd_.motor_cmd`` / ``LowState_.motor_state`` length (29 motors + spare slots)."""

NUM_BODY_MOTORS = 29

BODY_JOINTS: tuple[str, ...] = (
    "left_hip_pitch_joint", "left_hip_roll_joint", "left_hip_yaw_joint", "left_knee_joint",
    "left_ankle_pitch_joint", "left_ankle_roll_joint",
    "right_hip_pitch_joint", "right_hip_roll_joint", "right_hip_yaw_joint", "right_knee_joint",
    "right_ankle_pitch_joint", "right_ankle_roll_joint",
    "waist_yaw_joint", "waist_roll_joint", "waist_pitch_joint",
    "left_shoulder_pitch_joint", "left_shoulder_roll_joint", "left_shoulder_yaw_joint", "left_elbow_joint",
    "left_wrist_roll_joint", "left_wrist_pitch_joint", "left_wrist_yaw_joint",
    "right_shoulder_pitch_joint", "right_shoulder_roll_joint", "right_shoulder_yaw_joint", "right_elbow_joint",
    "right_wrist_roll_joint", "right_wrist_pitch_joint", "right_wrist_yaw_joint",
)  # fmt: skip
"""Joint names in motor order (slot i of ``motor_cmd`` drives ``BODY_JOINTS[i]``)."""

LEGS = tuple(range(0, 12))
WAIST = (12, 13, 14)
LEFT_ARM = tuple(range(15, 22))
RIGHT_ARM = tuple(range(22, 29))
ARM_SDK_JOINTS = WAIST + LEFT_ARM + RIGHT_ARM
"""Motors the arm-SDK topic (``rt/arm_sdk``) may command; the rest stay with the standing controller."""

ARM_SDK_WEIGHT_SLOT = 29
"""``motor_cmd[29].q`` (the G1's "NotUsedJoint") carries the arm-SDK blend weight in [0, 1]."""

ARMS = {"left": LEFT_ARM, "right": RIGHT_ARM}

DEX3_JOINTS = ("thumb_0", "thumb_1", "thumb_2", "middle_0", "middle_1", "index_0", "index_1")
"""Dex3-1 hand motor order (``HandCmd_.motor_cmd`` slot i drives ``{side}_hand_{DEX3_JOINTS[i]}_joint``)."""

HAND_TOPICS = {
    "left": ("rt/dex3/left/cmd", "rt/dex3/left/state"),
    "right": ("rt/dex3/right/cmd", "rt/dex3/right/state"),
}


def hand_joint_names(side: str) -> tuple[str, ...]:
    """The 7 MuJoCo joint names of one Dex3 hand, in Dex3 motor order."""
    check_side(side)
    return tuple(f"{side}_hand_{j}_joint" for j in DEX3_JOINTS)


def check_side(side: str) -> None:
    if side not in ARMS:
        raise ValueError(f"unknown arm side {side!r}; choose one of: {', '.join(ARMS)}")


# Standing posture (motor order): the Menagerie ``stand`` keyframe, knees slightly bent so the
# standing controller has authority, arms relaxed beside the body.
STAND_POSTURE = np.array(
    [-0.1, 0.0, 0.0, 0.3, -0.2, 0.0,
     -0.1, 0.0, 0.0, 0.3, -0.2, 0.0,
     0.0, 0.0, 0.0,
     0.2, 0.35, 0.0, 1.0, 0.0, 0.0, 0.0,
     0.2, -0.35, 0.0, 1.0, 0.0, 0.0, 0.0],
    dtype=np.float64,
)  # fmt: skip

# PD gains (motor order). Legs are stiffer than Unitree's RL-policy gains because the simulated
# standing controller holds a fixed posture (plus an IMU ankle correction) instead of a policy.
DEFAULT_KP = np.array(
    [450, 450, 450, 900, 240, 120] * 2 + [300, 300, 300] + [80, 80, 60, 60, 30, 20, 20] * 2,
    dtype=np.float64,
)
DEFAULT_KD = np.array(
    [6, 6, 6, 12, 4, 2] * 2 + [6, 6, 6] + [2.5, 2.5, 2, 2, 1, 0.8, 0.8] * 2,
    dtype=np.float64,
)

# Dex3 hand gains and open / closed postures (Dex3 motor order, per side; radians).
HAND_KP = np.full(7, 1.5)
HAND_KD = np.full(7, 0.1)
HAND_OPEN = {
    "left": np.array([0.0, -0.5, 0.0, 0.0, 0.0, 0.0, 0.0]),
    "right": np.array([0.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0]),
}
HAND_CLOSED = {
    "left": np.array([0.0, 0.6, 1.2, -1.2, -1.2, -1.2, -1.2]),
    "right": np.array([0.0, -0.6, -1.2, 1.2, 1.2, 1.2, 1.2]),
}
