"""The UR5e tabletop simulation: a table, everyday objects, the UR5e + 2F-85 and an RGB-D camera.

Frames. Everything this API returns is in the robot base frame (the UR5e ``base_link``,
z up, on the table top). The objects lie in front of the robot (+x). The camera stands
across the table facing the robot, so **image-left is the base's -y direction** and
image-right is +y; "left of the plate" as seen from the camera means smaller y.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np
from scipy.spatial.transform import Rotation

from robotracer.geometry.camera import Intrinsics
from robotracer.geometry.transforms import RigidTransform
from robotracer.sim import ur5e_model
from robotracer.sim.camera import BACKGROUND_ID, ROBOT_ID, TABLE_ID, CameraFrame, render_frame  # noqa: F401 (re-exported)
from robotracer.sim.objects import TABLE_NAME, TableSpec, add_object, add_table, object_kind

ROBOT_PREFIX = "ur5e/"
CAMERA_NAME = "front_camera"
BASE_FRAME = "base_link"
CAMERA_FRAME = "camera_color_optical_frame"
# Default camera: the optical frame (x right, y down, z forward) in base_link, across the
# table at 1.3 m, 0.55 m above the top, looking at (0.45, 0, 0). The URDF carries the same numbers.
DEFAULT_CAMERA_XYZ = (1.30, 0.0, 0.55)
DEFAULT_CAMERA_RPY = (-2.1451, 0.0, 1.5708)
DEFAULT_OBJECTS = (("cup", "cup"), ("plate", "plate"), ("bowl", "bowl"), ("apple", "apple"))
# Default layout (x, y, yaw) in base_link: the cup is RIGHT of the plate as seen from the camera.
DEFAULT_LAYOUT = {
    "cup": (0.47, 0.24, 0.0),
    "plate": (0.50, 0.02, 0.0),
    "bowl": (0.68, 0.30, 0.0),
    "apple": (0.68, -0.10, 0.0),
    "block": (0.36, -0.32, 0.3),
    "can": (0.36, 0.40, 0.0),
}


@dataclass(frozen=True)
class TabletopConfig:
    """Settings of the tabletop scene.

    Attributes:
        seed: layout seed used by ``reset()`` without argument; None = the default layout.
        objects: ``(name, kind)`` pairs; kinds from :data:`robotracer.sim.objects.CATALOGUE`.
        width, height: camera image size, pixels.
        camera_xyz: ``(3,)`` camera optical frame origin in base_link, metres.
        camera_rpy: ``(3,)`` its roll-pitch-yaw (fixed axes x, y, z), radians.
        fovy: vertical field of view, degrees.
        timestep: physics step, seconds.
        table_height: floor to table top, metres (the robot base stands on the top).
        robot_xy: ``(2,)`` robot base position relative to the table's back edge centre... see ``table``.
        table: the table; its top's centre is ``table_offset`` in base_link.
    """

    seed: int | None = None
    objects: tuple[tuple[str, str], ...] = DEFAULT_OBJECTS
    width: int = 640
    height: int = 480
    camera_xyz: tuple[float, float, float] = DEFAULT_CAMERA_XYZ
    camera_rpy: tuple[float, float, float] = DEFAULT_CAMERA_RPY
    fovy: float = 45.0
    timestep: float = 0.002
    table_height: float = 0.75
    table_offset: tuple[float, float] = (0.40, 0.0)
    table_size: tuple[float, float] = (1.2, 1.4)
    min_reach: float = 0.35
    max_reach: float = 0.72

    def __post_init__(self) -> None:
        names = [n for n, _ in self.objects]
        if len(set(names)) != len(names):
            raise ValueError(f"object names must be unique, got {names}")
        for _, kind in self.objects:
            object_kind(kind)  # raises with the valid kinds
        reserved = {TABLE_NAME, "robot", "background"}
        if reserved & set(names):
            raise ValueError(f"object names {sorted(reserved & set(names))} are reserved; pick others")
        if self.width <= 0 or self.height <= 0 or not 1.0 < self.fovy < 170.0:
            raise ValueError(f"bad camera: {self.width}x{self.height}, fovy {self.fovy} deg")
        if not 0 < self.timestep <= 0.01:
            raise ValueError(f"timestep must be in (0, 0.01] s, got {self.timestep}")

    @property
    def T_base_camera(self) -> RigidTransform:
        return RigidTransform.from_xyz_rpy(self.camera_xyz, self.camera_rpy)


class TabletopSim:
    """The simulated UR5e tabletop. Not thread-safe: drive it from one thread."""

    def __init__(self, config: TabletopConfig = TabletopConfig()) -> None:
        self.config = config
        self._T_world_base = RigidTransform(np.eye(3), [0.0, 0.0, config.table_height])
        self.spec = self._compose()
        self.model = self.spec.compile()
        self.data = mujoco.MjData(self.model)
        m = self.model
        self._arm_qpos = np.array([m.joint(ROBOT_PREFIX + j).qposadr[0] for j in ur5e_model.ARM_JOINT_NAMES])
        self._arm_dof = np.array([m.joint(ROBOT_PREFIX + j).dofadr[0] for j in ur5e_model.ARM_JOINT_NAMES])
        self._arm_act = np.array([m.actuator(ROBOT_PREFIX + a).id for a in ur5e_model.ARM_ACTUATOR_NAMES])
        self._grip_act = m.actuator(ROBOT_PREFIX + ur5e_model.GRIPPER_ACTUATOR_NAME).id
        self._grip_qpos = m.joint(ROBOT_PREFIX + ur5e_model.GRIPPER_DRIVER_JOINT).qposadr[0]
        self._arm_range = m.jnt_range[[m.joint(ROBOT_PREFIX + j).id for j in ur5e_model.ARM_JOINT_NAMES]].copy()
        self._obj_body = {n: m.body(n).id for n in self.object_names}
        self._obj_qpos = {n: m.joint(f"{n}/free").qposadr[0] for n in self.object_names}
        self._obj_dof = {n: m.joint(f"{n}/free").dofadr[0] for n in self.object_names}
        self._labels, self._geom_label = self._segmentation_lookup()
        self._camera_id = m.camera(CAMERA_NAME).id
        self._renderer: mujoco.Renderer | None = None
        self.reset(config.seed)

    # ---- composition -------------------------------------------------------------------
    def _compose(self) -> mujoco.MjSpec:
        c = self.config
        spec = mujoco.MjSpec()
        spec.modelname = "ur5e_tabletop"
        ur5e_model.apply_grasp_physics(spec)
        spec.option.timestep = c.timestep
        spec.visual.quality.shadowsize = 0
        spec.visual.quality.offsamples = 0
        spec.visual.global_.offwidth = max(c.width, 640)
        spec.visual.global_.offheight = max(c.height, 480)
        spec.visual.headlight.ambient = [0.4, 0.4, 0.4]
        spec.visual.headlight.diffuse = [0.6, 0.6, 0.6]
        spec.worldbody.add_geom(name="floor", type=mujoco.mjtGeom.mjGEOM_PLANE, size=[3, 3, 0.05], rgba=[0.35, 0.35, 0.38, 1])
        spec.worldbody.add_light(name="ceiling", pos=[0.5, 0, 3.0], dir=[0, 0, -1], diffuse=[0.5, 0.5, 0.5], castshadow=False)
        zt = c.table_height
        add_table(spec, TableSpec(center=tuple(c.table_offset), size=tuple(c.table_size), height=zt))
        mount = spec.worldbody.add_site(name="robot_mount", pos=[0, 0, zt])
        spec.attach(ur5e_model.ur5e_2f85_spec(), prefix=ROBOT_PREFIX, site=mount)
        for name, kind in c.objects:
            x, y, yaw = DEFAULT_LAYOUT.get(kind, (0.5, 0.0, 0.0))
            add_object(spec, kind, name, (x, y, zt), yaw)
        T_world_cam = self._T_world_base @ c.T_base_camera
        q_opt = np.roll(Rotation.from_matrix(T_world_cam.rotation).as_quat(), 1)  # wxyz
        q_mj = np.zeros(4)
        mujoco.mju_mulQuat(q_mj, q_opt, np.array([0.0, 1.0, 0.0, 0.0]))  # MuJoCo cameras look down -z, y up
        spec.worldbody.add_camera(name=CAMERA_NAME, pos=list(T_world_cam.translation), quat=list(q_mj), fovy=c.fovy)
        return spec

    def _segmentation_lookup(self) -> tuple[dict[int, str], np.ndarray]:
        m = self.model
        labels = {BACKGROUND_ID: "background", TABLE_ID: TABLE_NAME, ROBOT_ID: "robot"}
        body_label = np.zeros(m.nbody, dtype=np.uint16)
        table = m.body(TABLE_NAME).id
        body_label[table] = TABLE_ID
        for b in range(m.nbody):
            if m.body(b).name.startswith(ROBOT_PREFIX):
                body_label[b] = ROBOT_ID
        for i, name in enumerate(self.object_names):
            labels[3 + i] = name
            body_label[self._obj_body[name]] = 3 + i
        return labels, body_label[m.geom_bodyid]

    # ---- state ---------------------------------------------------------------------------
    @property
    def object_names(self) -> tuple[str, ...]:
        return tuple(n for n, _ in self.config.objects)

    @property
    def object_kinds(self) -> dict[str, str]:
        return dict(self.config.objects)

    @property
    def arm_joint_names(self) -> tuple[str, ...]:
        return ur5e_model.ARM_JOINT_NAMES

    @property
    def arm_joint_limits(self) -> np.ndarray:
        """``(6, 2)`` float64 lower/upper joint limits, radians."""
        return self._arm_range.copy()

    @property
    def time(self) -> float:
        return float(self.data.time)

    @property
    def timestep(self) -> float:
        return float(self.model.opt.timestep)

    @property
    def table_height_in_base(self) -> float:
        """z of the table top in base_link (0: the robot stands on the top)."""
        return 0.0

    def layout(self, seed: int | None) -> dict[str, tuple[float, float, float]]:
        """``name -> (x, y, yaw)`` in base_link for ``seed`` (None: the default layout)."""
        if seed is None:
            return {n: DEFAULT_LAYOUT.get(k, (0.5, 0.0, 0.0)) for n, k in self.config.objects}
        c = self.config
        rng = np.random.default_rng(seed)
        placed: dict[str, tuple[float, float, float]] = {}
        for name, kind in c.objects:
            r = object_kind(kind).radius
            for _ in range(2000):
                x, y = rng.uniform(c.min_reach, c.max_reach), rng.uniform(-0.40, 0.40)
                if not c.min_reach <= math.hypot(x, y) <= c.max_reach:
                    continue
                if all(math.hypot(x - px, y - py) >= r + object_kind(dict(c.objects)[o]).radius + 0.04 for o, (px, py, _) in placed.items()):
                    placed[name] = (float(x), float(y), float(rng.uniform(-math.pi, math.pi)))
                    break
            else:
                raise RuntimeError(f"could not place '{name}' without overlap for seed {seed}: use fewer objects")
        return placed

    def reset(self, seed: int | None = None) -> None:
        """Arm at home, gripper open, objects upright at the layout of ``seed`` (None: default layout)."""
        m, d = self.model, self.data
        mujoco.mj_resetData(m, d)
        d.qpos[self._arm_qpos] = ur5e_model.HOME_Q
        d.ctrl[self._arm_act] = ur5e_model.HOME_Q
        d.ctrl[self._grip_act] = 0.0
        zt = self.config.table_height
        for name, (x, y, yaw) in self.layout(seed).items():
            a = self._obj_qpos[name]
            d.qpos[a : a + 3] = (x, y, zt + 1e-4)
            d.qpos[a + 3 : a + 7] = (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
        mujoco.mj_forward(m, d)
        self.step(int(round(0.3 / self.timestep)))  # settle contacts
        d.time = 0.0

    def step(self, n: int = 1) -> None:
        """Advance physics by ``n`` steps."""
        mujoco.mj_step(self.model, self.data, nstep=int(n))

    def arm_positions(self) -> np.ndarray:
        """``(6,)`` float64 joint angles, radians."""
        return self.data.qpos[self._arm_qpos].copy()

    def arm_velocities(self) -> np.ndarray:
        """``(6,)`` float64 joint velocities, rad/s."""
        return self.data.qvel[self._arm_dof].copy()

    def arm_targets(self) -> np.ndarray:
        """``(6,)`` float64 position-actuator targets, radians."""
        return self.data.ctrl[self._arm_act].copy()

    def set_arm_targets(self, q: np.ndarray) -> None:
        """Position targets ``(6,)`` radians, clipped to the joint limits."""
        q = np.asarray(q, dtype=np.float64).reshape(6)
        self.data.ctrl[self._arm_act] = np.clip(q, self._arm_range[:, 0], self._arm_range[:, 1])

    def set_gripper(self, closure: float) -> None:
        """Gripper command: 0 = fully open, 1 = fully closed (clipped to [0, 1])."""
        self.data.ctrl[self._grip_act] = float(np.clip(closure, 0.0, 1.0)) * ur5e_model.GRIPPER_CTRL_MAX

    def gripper_closure(self) -> float:
        """Measured finger closure in [0, 1] (driver joint angle over its travel)."""
        return float(np.clip(self.data.qpos[self._grip_qpos] / ur5e_model.GRIPPER_DRIVER_RANGE, 0.0, 1.0))

    def object_poses(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """``name -> (position (3,), quat wxyz (4,))`` of each object's body frame (bottom centre) in base_link."""
        out = {}
        for n, a in self._obj_qpos.items():
            p = self.data.qpos[a : a + 3] - self._T_world_base.translation
            out[n] = (p.copy(), self.data.qpos[a + 3 : a + 7].copy())
        return out

    def object_top_center(self, name: str) -> np.ndarray:
        """``(3,)`` the top centre of ``name`` (as it stands now) in base_link."""
        pos, quat = self.object_poses()[self._check(name)]
        R = RigidTransform.from_xyz_quat_wxyz(pos, quat).rotation
        return pos + R @ np.array([0.0, 0.0, object_kind(self.object_kinds[name]).height])

    def is_upright(self, name: str, tol_deg: float = 10.0) -> bool:
        """Whether ``name``'s vertical axis is within ``tol_deg`` of the world's."""
        _, quat = self.object_poses()[self._check(name)]
        z = RigidTransform.from_xyz_quat_wxyz(np.zeros(3), quat).rotation[:, 2]
        return bool(np.degrees(np.arccos(np.clip(z[2], -1.0, 1.0))) <= tol_deg)

    def warnings(self) -> dict[str, int]:
        """Simulator warnings raised so far: ``mjtWarning`` name -> count (empty when healthy)."""
        return {
            mujoco.mjtWarning(i).name: int(w.number)
            for i, w in enumerate(self.data.warning)
            if w.number > 0
        }

    def _check(self, name: str) -> str:
        if name not in self._obj_qpos:
            raise KeyError(f"no object named '{name}'; objects: {', '.join(self.object_names)}")
        return name

    # ---- camera --------------------------------------------------------------------------
    @property
    def intrinsics(self) -> Intrinsics:
        return Intrinsics.from_fovy(self.config.fovy, self.config.width, self.config.height)

    @property
    def T_base_camera(self) -> RigidTransform:
        """Maps camera optical-frame points into base_link."""
        return self.config.T_base_camera

    @property
    def labels(self) -> dict[int, str]:
        return dict(self._labels)

    def render(self, segmentation: bool = True) -> CameraFrame:
        """RGB, depth (metres) and, unless ``segmentation=False`` (a third of the cost), segmentation.

        Rendered from the scene camera with shadows, reflections and MSAA off.
        """
        if self._renderer is None:
            try:
                self._renderer = mujoco.Renderer(self.model, self.config.height, self.config.width)
            except mujoco.FatalError as e:
                raise RuntimeError(
                    f"cannot create a MuJoCo renderer ({e}). Headless machines need MUJOCO_GL=egl (or osmesa) "
                    "set before mujoco is first imported: import robotracer.sim first or export the variable."
                ) from e
        return render_frame(
            self._renderer, self.data, self._camera_id, self._geom_label, self._labels, self.time, segmentation
        )

    def close(self) -> None:
        """Release the renderer's GL context."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __enter__(self) -> "TabletopSim":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
