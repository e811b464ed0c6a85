"""Rendering a MuJoCo camera into the frames every scene publishes: RGB, metric depth, segmentation."""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np

# segmentation ids shared by every scene: 0 = background, then the table and the robot; objects follow
BACKGROUND_ID, TABLE_ID, ROBOT_ID = 0, 1, 2


@dataclass(frozen=True)
class CameraFrame:
    """One rendered frame.

    Attributes:
        rgb: ``(H, W, 3)`` uint8.
        depth: ``(H, W)`` float32 metres along the optical axis (z-depth); 0 = no return.
        segmentation: ``(H, W)`` uint16 ids, 0 = background; None when not rendered.
        labels: id -> name (``table``, ``robot`` and each object name).
        stamp: simulation time, seconds.
    """

    rgb: np.ndarray
    depth: np.ndarray
    segmentation: np.ndarray | None
    labels: dict[int, str]
    stamp: float


def render_frame(
    renderer: mujoco.Renderer,
    data: mujoco.MjData,
    camera_id: int,
    geom_label: np.ndarray,
    labels: dict[int, str],
    stamp: float,
    segmentation: bool = True,
) -> CameraFrame:
    """RGB, depth (metres; beyond the far plane = 0) and, unless ``segmentation=False`` (a third of the
    cost), segmentation ids from ``geom_label`` (``(ngeom,)`` uint16: label id of each geom).

    Shadows and reflections are off; MSAA is the model's ``offsamples`` (scenes set 0).
    """
    r = renderer
    m = r.model
    r.update_scene(data, camera=camera_id)
    r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
    r.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
    rgb = r.render().copy()
    r.enable_depth_rendering()
    depth = r.render().astype(np.float32)  # the Renderer linearises the z-buffer to metres
    r.disable_depth_rendering()
    depth[~np.isfinite(depth) | (depth >= m.stat.extent * m.vis.map.zfar * 0.999)] = 0.0
    if not segmentation:
        return CameraFrame(rgb, depth, None, dict(labels), stamp)
    r.enable_segmentation_rendering()
    seg_raw = r.render()
    r.disable_segmentation_rendering()
    geom_ids = seg_raw[..., 0]
    is_geom = (seg_raw[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM)) & (geom_ids >= 0)
    seg = np.zeros(geom_ids.shape, dtype=np.uint16)
    seg[is_geom] = geom_label[geom_ids[is_geom]]
    return CameraFrame(rgb, depth, seg, dict(labels), stamp)
