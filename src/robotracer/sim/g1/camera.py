"""The G1 head camera: RGB, depth (metres) and ground-truth segmentation, like the UR5e scene's camera.

Intrinsics: RealSense D435 colour stream at 640x480 (fx = fy ~ 616 px, ~55 x 42.5 deg field of
view); depth is rendered aligned to colour. The optical frame is ``head_camera_optical_frame``
(x right, y down, z forward).
"""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")  # headless rendering; must precede the first mujoco import

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from robotracer.geometry.camera import Intrinsics  # noqa: E402
from robotracer.geometry.transforms import RigidTransform  # noqa: E402
from robotracer.sim.g1.scene import HEAD_CAMERA_FOVY, HEAD_CAMERA_NAME, HEAD_CAMERA_SIZE, G1Scene  # noqa: E402
from robotracer.sim.objects import TABLE_NAME  # noqa: E402
from robotracer.sim.camera import BACKGROUND_ID, ROBOT_ID, TABLE_ID, CameraFrame, render_frame  # noqa: E402

CAMERA_FRAME = "head_camera_optical_frame"
_OPTICAL_FROM_MUJOCO = np.diag([1.0, -1.0, -1.0])  # MuJoCo cameras look down -z with y up
_CULLED_GROUP = 5  # a geom group the renderer's default options hide (geomgroup 0-2 shown)


def head_camera_intrinsics() -> Intrinsics:
    """The head camera's pinhole model (square pixels, MuJoCo's ``fovy``)."""
    return Intrinsics.from_fovy(HEAD_CAMERA_FOVY, *HEAD_CAMERA_SIZE)


def segmentation_labels(scene: G1Scene) -> tuple[dict[int, str], np.ndarray]:
    """Label names (0 background, 1 table, 2 robot, 3.. objects) and the ``(ngeom,)`` uint16 label of every geom."""
    m = scene.model
    labels = {BACKGROUND_ID: "background", TABLE_ID: TABLE_NAME, ROBOT_ID: "robot"}
    body_label = np.zeros(m.nbody, dtype=np.uint16)
    body_label[m.body(TABLE_NAME).id] = TABLE_ID
    pelvis = m.body("pelvis").id
    for b in range(m.nbody):
        root = b
        while root > 0 and m.body_parentid[root] > 0:
            root = m.body_parentid[root]
        if root == pelvis:
            body_label[b] = ROBOT_ID
    for i, name in enumerate(scene.object_names):
        labels[3 + i] = name
        body_label[m.body(name).id] = 3 + i
    return labels, body_label[m.geom_bodyid]


class HeadCamera:
    """Renders the head camera of a G1 scene. Create and use it from one thread (it owns a GL context)."""

    def __init__(self, scene: G1Scene) -> None:
        self.scene = scene
        self.intrinsics = head_camera_intrinsics()
        self._camera_id = scene.model.camera(HEAD_CAMERA_NAME).id
        self._labels, self._geom_label = segmentation_labels(scene)
        self._renderer = mujoco.Renderer(scene.model, self.intrinsics.height, self.intrinsics.width)
        assert not mujoco.MjvOption().geomgroup[_CULLED_GROUP], "the culled geom group must be hidden by default"
        m = scene.model
        self._cullable = (m.geom_rbound > 0) & (m.geom_group < _CULLED_GROUP)  # planes (rbound 0) stay
        half_y = np.tan(np.radians(m.cam_fovy[self._camera_id]) / 2)
        self._half_tan = np.array([half_y * self.intrinsics.width / self.intrinsics.height, half_y])

    @property
    def labels(self) -> dict[int, str]:
        return dict(self._labels)

    def pose_in_world(self, data: mujoco.MjData) -> RigidTransform:
        """``T_world_optical``: the optical frame (x right, y down, z forward) in the world."""
        R = data.cam_xmat[self._camera_id].reshape(3, 3) @ _OPTICAL_FROM_MUJOCO
        return RigidTransform(R, data.cam_xpos[self._camera_id].copy())

    def outside_view(self, data: mujoco.MjData) -> np.ndarray:
        """``(ngeom,)`` bool: geoms whose bounding sphere lies wholly outside the camera's view frustum.

        They cannot touch a pixel, so leaving them out changes no image; the G1's meshes have ~630k
        faces and a software renderer pays for every one in every pass, ~90 % of them out of view.
        """
        m, cam = self.scene.model, self._camera_id
        p = (data.geom_xpos - data.cam_xpos[cam]) @ data.cam_xmat[cam].reshape(3, 3)  # camera axes, view along -z
        forward, r = -p[:, 2], m.geom_rbound
        outside = forward < -r
        for axis in (0, 1):  # distance beyond each side plane of the frustum
            t = self._half_tan[axis]
            outside |= (np.abs(p[:, axis]) - t * forward) / np.hypot(1.0, t) > r
        return outside & self._cullable

    def render(self, data: mujoco.MjData) -> CameraFrame:
        """RGB ``(H, W, 3)`` uint8, depth ``(H, W)`` float32 metres (0 = no return), segmentation ``(H, W)`` uint16.

        Geoms outside the view frustum are left out of the passes (same images, a fraction of the cost).
        """
        groups = self.scene.model.geom_group
        saved = groups.copy()
        groups[self.outside_view(data)] = _CULLED_GROUP
        try:
            return render_frame(self._renderer, data, self._camera_id, self._geom_label, self._labels, float(data.time))
        finally:
            groups[:] = saved

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __enter__(self) -> "HeadCamera":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
