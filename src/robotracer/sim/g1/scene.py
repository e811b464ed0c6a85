"""The G1 tabletop scene: Menagerie G1 with Dex3 hands standing at a table with named objects.

World frame: z up, origin on the floor under the pelvis at start, x forward (towards the
table), y to the robot's left. The robot's joints are driven by torque motors (``ctrl`` =
joint torque, clipped to the Menagerie ``actuatorfrcrange``) so that a PD law computed from
SDK commands, as on the real robot's motor drivers, produces the torques.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

from robotracer.robots.g1.joints import BODY_JOINTS, STAND_POSTURE, hand_joint_names
from robotracer.robots.g1.model import MODEL_FILES, add_grasp_sites, model_path
from robotracer.sim.objects import TableSpec, add_object, add_table, object_kind

PELVIS_HEIGHT = 0.79  # metres, Menagerie ``stand`` keyframe

# Head camera: pose of Unitree's ``d435_link`` on ``torso_link`` (G1 URDF) and RealSense D435
# colour intrinsics at 640x480 (fx = fy ~ 615 px, i.e. ~55 x 42.5 deg); depth is rendered
# aligned to colour, as realsense-ros does with ``align_depth``.
HEAD_CAMERA_NAME = "head_camera"
HEAD_CAMERA_POS = (0.0576, 0.0175, 0.4299)
HEAD_CAMERA_PITCH = 0.8308  # rad, downwards
HEAD_CAMERA_FOVY = 42.5  # deg
HEAD_CAMERA_SIZE = (640, 480)


@dataclass(frozen=True)
class PlacedObject:
    """A named catalogue object (:data:`robotracer.sim.objects.CATALOGUE`) standing on the table.

    Attributes:
        name: label used in instructions and segmentation.
        kind: catalogue key (``cup``, ``plate``, ``block``...).
        xy: bottom centre on the table, world frame, metres.
        yaw: rotation about the vertical, radians.
    """

    name: str
    kind: str
    xy: tuple[float, float]
    yaw: float = 0.0

    @property
    def height(self) -> float:
        return object_kind(self.kind).height


# A table at the G1's pelvis height, its front edge 0.2 m ahead; objects within the arms' reach
# (the apple at the back is not).
DEFAULT_TABLE = TableSpec(center=(0.45, 0.0), size=(0.5, 0.9), height=0.80)
DEFAULT_OBJECTS = (
    PlacedObject("cup", "cup", (0.28, 0.25)),
    PlacedObject("plate", "plate", (0.36, -0.04)),
    PlacedObject("block", "block", (0.30, -0.24)),
    PlacedObject("apple", "apple", (0.52, 0.10)),
)
# The same objects where the head camera sees all of the cup and the plate with room above them
# (in the default layout the cup stands at the image's left edge and its top is out of view), so
# a tracer that sees the scene only through the camera can plan "the cup left of / on the plate".
HEAD_CAMERA_OBJECTS = (
    PlacedObject("cup", "cup", (0.34, 0.17)),
    PlacedObject("plate", "plate", (0.36, -0.08)),
    PlacedObject("block", "block", (0.28, -0.20)),
    PlacedObject("apple", "apple", (0.52, 0.10)),
)
LAYOUTS = {"default": DEFAULT_OBJECTS, "head_camera": HEAD_CAMERA_OBJECTS}
"""Named object layouts (``G1SceneConfig(objects=LAYOUTS[name])``)."""


@dataclass(frozen=True)
class G1SceneConfig:
    """What to build.

    Attributes:
        variant: ``g1_with_hands`` (43 DoF, Dex3 hands) or ``g1`` (29 DoF).
        pelvis_mode: ``free`` (floating base, the robot balances on its feet under PD control)
            or ``fixed`` (pelvis welded in place, for debugging arm work without balance).
        table: the table.
        objects: the named objects on it.
        timestep: physics step in seconds (0.002 = the 500 Hz low-level loop).
    """

    variant: str = "g1_with_hands"
    pelvis_mode: str = "free"
    table: TableSpec = DEFAULT_TABLE
    objects: tuple[PlacedObject, ...] = DEFAULT_OBJECTS
    timestep: float = 0.002

    def __post_init__(self) -> None:
        if self.pelvis_mode not in ("free", "fixed"):
            raise ValueError(f"unknown pelvis_mode {self.pelvis_mode!r}; choose one of: free, fixed")
        if self.variant not in MODEL_FILES:
            raise ValueError(f"unknown G1 model {self.variant!r}; choose one of: {', '.join(MODEL_FILES)}")
        names = [o.name for o in self.objects]
        if len(set(names)) != len(names):
            raise ValueError(f"object names must be unique, got {names}")


def _add_table_and_objects(spec: mujoco.MjSpec, table: TableSpec, objects: tuple[PlacedObject, ...]) -> None:
    """The shared table and catalogue objects (:mod:`robotracer.sim.objects`)."""
    add_table(spec, table)
    for obj in objects:
        add_object(spec, obj.kind, obj.name, (*obj.xy, table.height + 0.001), yaw=obj.yaw)


def _motorize(spec: mujoco.MjSpec) -> None:
    """Menagerie position servos -> torque motors limited to each joint's ``actuatorfrcrange``."""
    for act in spec.actuators:
        joint = spec.joint(act.target)
        act.set_to_motor()
        act.ctrllimited = 1
        act.ctrlrange = list(joint.actfrcrange)
        act.inheritrange = 0


def _add_grasp_welds(spec: mujoco.MjSpec, objects: tuple[PlacedObject, ...]) -> None:
    """One inactive weld per (hand, object), switched on by the simulation's grasp model."""
    for side in ("left", "right"):
        for obj in objects:
            spec.add_equality(
                name=f"grasp_{side}_{obj.name}",
                type=mujoco.mjtEq.mjEQ_WELD,
                objtype=mujoco.mjtObj.mjOBJ_BODY,
                name1=f"{side}_wrist_yaw_link",
                name2=obj.name,
                active=0,
            )


def build_spec(config: G1SceneConfig = G1SceneConfig(), grasp_welds: bool = False) -> mujoco.MjSpec:
    """The scene as an editable :class:`mujoco.MjSpec` (robot file untouched, composed here).

    ``grasp_welds`` adds the inactive hand-object welds the simulation's grasp model switches on.
    """
    spec = mujoco.MjSpec.from_file(str(model_path(config.variant)))
    spec.option.timestep = config.timestep
    spec.option.impratio = 10
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.visual.quality.shadowsize = 0
    spec.visual.quality.offsamples = 0
    spec.visual.global_.offwidth = max(HEAD_CAMERA_SIZE[0], 640)
    spec.visual.global_.offheight = max(HEAD_CAMERA_SIZE[1], 480)
    _motorize(spec)
    add_grasp_sites(spec)
    if spec.keys:
        spec.delete(spec.keys[0])

    world = spec.worldbody
    world.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[0, 0, 0.05], rgba=[0.35, 0.38, 0.42, 1])
    world.add_light(pos=[0.5, 0.0, 3.0], dir=[0, 0, -1], type=mujoco.mjtLightType.mjLIGHT_DIRECTIONAL, castshadow=0, diffuse=[0.6, 0.6, 0.6])

    pelvis = spec.body("pelvis")
    if config.pelvis_mode == "fixed":
        spec.delete(spec.joint("floating_base_joint"))
        pelvis.pos = [0.0, 0.0, PELVIS_HEIGHT]

    torso = spec.body("torso_link")
    p = HEAD_CAMERA_PITCH
    torso.add_camera(
        name=HEAD_CAMERA_NAME,
        pos=list(HEAD_CAMERA_POS),
        xyaxes=[0, -1, 0, np.sin(p), 0, np.cos(p)],
        fovy=HEAD_CAMERA_FOVY,
    )
    _add_table_and_objects(spec, config.table, config.objects)
    if grasp_welds and config.variant == "g1_with_hands":
        _add_grasp_welds(spec, config.objects)
    return spec


@dataclass(frozen=True)
class G1Scene:
    """A compiled scene and the indices that connect SDK motor slots to MuJoCo.

    Attributes:
        model: the compiled model.
        config: what it was built from.
        body_qpos: ``(29,)`` int qpos address of each body motor's joint (motor order).
        body_dof: ``(29,)`` int dof address of each body motor's joint.
        body_actuator: ``(29,)`` int actuator id of each body motor.
        hand_qpos, hand_dof, hand_actuator: per side, ``(7,)`` int, Dex3 motor order (empty without hands).
        object_names: names of the table objects, in label-id order (label id = index + 1).
    """

    model: mujoco.MjModel
    config: G1SceneConfig
    body_qpos: np.ndarray
    body_dof: np.ndarray
    body_actuator: np.ndarray
    hand_qpos: dict[str, np.ndarray]
    hand_dof: dict[str, np.ndarray]
    hand_actuator: dict[str, np.ndarray]
    object_names: tuple[str, ...]

    @property
    def has_hands(self) -> bool:
        return bool(self.hand_actuator)

    def reset(self, data: mujoco.MjData) -> None:
        """Standing posture, pelvis at the keyframe height, objects at their configured places."""
        mujoco.mj_resetData(self.model, data)
        if self.config.pelvis_mode == "free":
            data.qpos[0:7] = [0, 0, PELVIS_HEIGHT, 1, 0, 0, 0]
        data.qpos[self.body_qpos] = STAND_POSTURE
        mujoco.mj_forward(self.model, data)
        # lower the robot so its lowest foot point touches the floor
        if self.config.pelvis_mode == "free":
            foot_z = min(data.site("left_foot").xpos[2], data.site("right_foot").xpos[2])
            data.qpos[2] -= foot_z - 0.03
            mujoco.mj_forward(self.model, data)


def build_scene(config: G1SceneConfig = G1SceneConfig(), grasp_welds: bool = False) -> G1Scene:
    """Compile the scene described by ``config`` (``grasp_welds``: see :func:`build_spec`)."""
    model = build_spec(config, grasp_welds).compile()

    def joint_ids(names):
        ids = [model.joint(n).id for n in names]
        return model.jnt_qposadr[ids].astype(int), model.jnt_dofadr[ids].astype(int)

    def actuator_ids(names):
        return np.array([model.actuator(n).id for n in names], dtype=int)

    bq, bd = joint_ids(BODY_JOINTS)
    hq, hd, ha = {}, {}, {}
    if config.variant == "g1_with_hands":
        for side in ("left", "right"):
            names = hand_joint_names(side)
            hq[side], hd[side] = joint_ids(names)
            ha[side] = actuator_ids(names)
    return G1Scene(
        model=model,
        config=config,
        body_qpos=bq,
        body_dof=bd,
        body_actuator=actuator_ids(BODY_JOINTS),
        hand_qpos=hq,
        hand_dof=hd,
        hand_actuator=ha,
        object_names=tuple(o.name for o in config.objects),
    )
