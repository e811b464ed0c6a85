"""The UR5e with a Robotiq 2F-85 on its flange, composed from the untouched Menagerie files.

The composed spec's world frame is the UR5e ``base_link`` (z up). Names carry the
prefixes below, so a scene can attach it once more under its own prefix.
"""

from __future__ import annotations

import mujoco

from robotracer.sim.assets import robotiq_2f85_xml, ur5e_xml

GRIPPER_PREFIX = "2f85/"
ARM_JOINT_NAMES = (
    "shoulder_pan_joint",
    "shoulder_lift_joint",
    "elbow_joint",
    "wrist_1_joint",
    "wrist_2_joint",
    "wrist_3_joint",
)
ARM_ACTUATOR_NAMES = ("shoulder_pan", "shoulder_lift", "elbow", "wrist_1", "wrist_2", "wrist_3")
GRIPPER_ACTUATOR_NAME = GRIPPER_PREFIX + "fingers_actuator"
GRIPPER_DRIVER_JOINT = GRIPPER_PREFIX + "right_driver_joint"
GRIPPER_DRIVER_RANGE = 0.8  # rad, driver joint travel from open to closed
GRIPPER_CTRL_MAX = 255.0
TCP_SITE = GRIPPER_PREFIX + "pinch"  # Menagerie's grasp point between the fingertips
FLANGE_SITE = "attachment_site"
# Home pose: TCP 0.40 m above the table at (0.25, 0, 0.40) in base_link, pointing down, elbow up,
# above the camera's field of view so the table stays unoccluded.
HOME_Q = (2.5759, -2.2030, 1.8105, -1.1783, -1.5708, -2.1365)


def ur5e_2f85_spec() -> mujoco.MjSpec:
    """A fresh MjSpec of the UR5e with the 2F-85 attached at ``attachment_site``.

    The gripper file's physics options (elliptic friction cone, ``impratio=10``) are
    copied onto the composed spec so a friction grasp holds; a scene that attaches this
    spec must keep them too (see :func:`apply_grasp_physics`).
    """
    arm = mujoco.MjSpec.from_file(str(ur5e_xml()))
    gripper = mujoco.MjSpec.from_file(str(robotiq_2f85_xml()))
    apply_grasp_physics(arm)  # before attaching, so the child's options agree with the parent's
    arm.attach(gripper, prefix=GRIPPER_PREFIX, site=arm.site(FLANGE_SITE))
    return arm


def apply_grasp_physics(spec: mujoco.MjSpec) -> None:
    """Options a friction grasp with the 2F-85 needs (attaching does not carry a child's options)."""
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 10.0
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
