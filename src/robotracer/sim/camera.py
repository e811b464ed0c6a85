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
    """RGB, depth (metres; beyond the far plane = 0) and, unless ``segmentation=False``, segmentation ids
    from ``geom_label`` (``(ngeom,)`` uint16: label id of each geom).

    Two passes: the lit colour image, then the flat ID-colour pass that ``mujoco.Renderer`` draws for
    both its depth and its segmentation modes — its depth buffer and its colour buffer are read from
    that one pass (three passes give the same images a third slower on a software renderer).
    Shadows and reflections are off; MSAA is the model's ``offsamples`` (scenes set 0).
    """
    r = renderer
    r.update_scene(data, camera=camera_id)
    r.scene.flags[mujoco.mjtRndFlag.mjRND_SHADOW] = False
    r.scene.flags[mujoco.mjtRndFlag.mjRND_REFLECTION] = False
    rgb = r.render().copy()
    r.enable_segmentation_rendering()
    seg_raw = r.render()
    r.disable_segmentation_rendering()
    depth = _depth_of_last_pass(r)
    if not segmentation:
        return CameraFrame(rgb, depth, None, dict(labels), stamp)
    geom_ids = seg_raw[..., 0]
    is_geom = (seg_raw[..., 1] == int(mujoco.mjtObj.mjOBJ_GEOM)) & (geom_ids >= 0)
    seg = np.zeros(geom_ids.shape, dtype=np.uint16)
    seg[is_geom] = geom_label[geom_ids[is_geom]]
    return CameraFrame(rgb, depth, seg, dict(labels), stamp)


def _depth_of_last_pass(r: mujoco.Renderer) -> np.ndarray:
    """``(H, W)`` float32 metres from the depth buffer of the renderer's last pass, converted exactly as
    ``mujoco.Renderer.render`` does in depth mode (reversed-Z perspective); beyond the far plane = 0."""
    m = r.model
    zbuf = np.empty((r.height, r.width), dtype=np.float32)
    mujoco.mjr_readPixels(None, zbuf, r._rect, r._mjr_context)  # the Renderer's own viewport and GL context
    znear = np.float32(m.vis.map.znear * m.stat.extent)
    zfar = np.float32(m.vis.map.zfar * m.stat.extent)
    z = np.flipud(zbuf).astype(np.float64)  # EGL / OSMesa images are bottom-up
    if r.scene.camera[0].orthographic:
        metres = zfar - z * (zfar - znear)
    else:
        c_coef = np.float32(-0.5) * (-(zfar + znear) / (zfar - znear)) - np.float32(0.5)
        d_coef = np.float32(-0.5) * (-(np.float32(2) * zfar * znear) / (zfar - znear))
        metres = d_coef / (z + c_coef)
    depth = metres.astype(np.float32)
    depth[~np.isfinite(depth) | (depth >= m.stat.extent * m.vis.map.zfar * 0.999)] = 0.0
    return depth
