"""The live pre-execution checks: workspace bounds, start-on-object, end-at-destination, swept-object collision.

Everything is in the robot's base frame (z up, the table is a horizontal plane). The trace is
the path of the moved object's top-centre point (first point = where it is now, last point =
where it rests after placing). The object's points come from its mask and the depth frame;
the scene occupancy from the same frame with the object's pixels (slightly dilated) removed:
space on or up to ``occupied_thickness`` behind an observed surface is solid (see
:class:`~robotracer.validation.occupancy.DepthOccupancy`), so a path through the unseen
side of a box or under the table top is caught, not only one touching the visible surface.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from robotracer.geometry.camera import Intrinsics
from robotracer.geometry.transforms import RigidTransform
from robotracer.trace.types import Trace3D
from robotracer.validation.occupancy import DepthOccupancy, back_project_pixels

CHECK_NAMES = ("workspace bounds", "start-on-object", "end-at-destination", "swept-object collision")


@dataclass(frozen=True)
class WorkspaceBounds:
    """Where the carried object may go: an axis-aligned box in the base frame, above the table.

    Attributes:
        lower: ``(3,)`` minimum corner (m).
        upper: ``(3,)`` maximum corner (m).
        table_height: z of the table top (m).
        min_height_above_table: every trace point's z must be at least ``table_height`` + this.
    """

    lower: tuple[float, float, float]
    upper: tuple[float, float, float]
    table_height: float = 0.0
    min_height_above_table: float = 0.0

    def __post_init__(self) -> None:
        lo, hi = np.asarray(self.lower, float), np.asarray(self.upper, float)
        if lo.shape != (3,) or hi.shape != (3,) or np.any(hi <= lo):
            raise ValueError(f"workspace needs lower < upper on every axis, got lower={self.lower}, upper={self.upper}")


@dataclass(frozen=True)
class ValidationParams:
    """Tolerances of the checks (metres unless noted)."""

    start_tolerance: float = 0.05  # trace start to the nearest object point
    end_above_tolerance: float = 0.05  # placed object's bottom at most this far above the surface under it
    end_below_tolerance: float = 0.03  # ... and at most this far below it
    support_radius: float = 0.04  # horizontal radius searched for the surface under the end point
    surface_tolerance: float = 0.01  # a point this close in front of an observed surface is occupied
    occupied_thickness: float = 0.10  # space this far behind an observed surface is solid
    collision_ratio_limit: float = 0.20  # > this fraction of the object's points in occupied voxels = collision
    support_layer: float = 0.025  # ignore occupancy this close to the support surface at the start and the end
    support_margin: float = 0.03  # horizontal margin around the object's footprint for that layer
    interpolation_step: float = 0.01  # dense sampling of the trace for the live guard
    mask_dilation_px: int = 3  # object mask grown by this before removing it from the scene
    max_object_points: int = 1000  # object points used for the swept collision (evenly subsampled)


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome; ``values`` holds the numbers behind the message."""

    name: str
    passed: bool
    message: str
    values: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ValidationReport:
    """All checks of one trace, in the order they ran."""

    checks: tuple[CheckResult, ...]

    @property
    def ok(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]

    @property
    def reason(self) -> str:
        """One sentence for the user: the first failed check's message ('' when all passed)."""
        fails = self.failures
        if not fails:
            return ""
        more = f" (also failed: {', '.join(f.name for f in fails[1:])})" if len(fails) > 1 else ""
        return fails[0].message + more

    def check(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check named {name!r}; checks: {', '.join(c.name for c in self.checks)}")


def densify(positions: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Points every ``step`` metres along the polyline ``(N, 3)`` (waypoints included).

    Returns:
        ``(K, 3)`` float64 points and ``(K,)`` int: the index of the waypoint each point follows.
    """
    P = np.asarray(positions, dtype=np.float64)
    if len(P) < 2:
        return P.copy(), np.zeros(len(P), dtype=int)
    seg = np.linalg.norm(np.diff(P, axis=0), axis=1)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    s = np.union1d(np.arange(0.0, cum[-1], step), cum)
    seg_idx = np.clip(np.searchsorted(cum, s, side="right") - 1, 0, len(P) - 2)
    frac = np.divide(s - cum[seg_idx], seg[seg_idx], out=np.zeros_like(s), where=seg[seg_idx] > 0)
    pts = P[seg_idx] + frac[:, None] * (P[seg_idx + 1] - P[seg_idx])
    return pts, seg_idx


def validate_trace(
    trace_base: Trace3D,
    depth: np.ndarray,
    intrinsics: Intrinsics,
    T_base_camera: RigidTransform,
    object_mask: np.ndarray | None,
    workspace: WorkspaceBounds,
    params: ValidationParams = ValidationParams(),
) -> ValidationReport:
    """Run every check on a trace lifted to the base frame.

    Args:
        trace_base: the object's top-centre path, ``positions`` ``(N, 3)`` in the base frame (z up).
        depth: ``(H, W)`` float32 metres, the frame the trace was made from (0/NaN = holes).
        intrinsics: the depth camera.
        T_base_camera: maps camera optical-frame points into the base frame.
        object_mask: ``(H, W)`` bool (or nonzero) pixels of the moved object; None skips
            start-on-object (said in its message) and sweeps a single point instead of the object.
        workspace: allowed region.
        params: tolerances.

    Returns:
        the report; ``report.ok`` is False if any check failed and ``report.reason`` names it.
    """
    P = np.asarray(trace_base.positions, dtype=np.float64)
    if len(P) < 2:
        raise ValueError(f"a trace needs at least 2 points to be validated, got {len(P)}")
    depth = np.asarray(depth, dtype=np.float32)
    if depth.shape[:2] != (intrinsics.height, intrinsics.width):
        raise ValueError(f"depth is {depth.shape[1]}x{depth.shape[0]} but the camera info says {intrinsics.width}x{intrinsics.height}")
    dense, seg_of = densify(P, params.interpolation_step)
    obj_px = None if object_mask is None else np.asarray(object_mask) > 0
    if obj_px is not None and obj_px.shape != depth.shape[:2]:
        raise ValueError(f"object mask is {obj_px.shape[1]}x{obj_px.shape[0]} but depth is {depth.shape[1]}x{depth.shape[0]}")
    # the object's pixels are worked on inside their bounding box (grown by the dilation), not the whole frame
    box = None if obj_px is None else _box_of(obj_px, params.mask_dilation_px)
    scene_depth, obj = depth, np.zeros((0, 3))
    if box is not None:
        window = (slice(box[0], box[1]), slice(box[2], box[3]))
        inside = obj_px[window]
        k = 2 * params.mask_dilation_px + 1
        removed = cv2.dilate(inside.astype(np.uint8), np.ones((k, k), np.uint8)) > 0
        scene_depth = depth.copy()
        scene_depth[window][removed] = 0.0
        rows, cols = np.nonzero(inside)
        obj = back_project_pixels(depth, intrinsics, T_base_camera, rows + box[0], cols + box[2])
    scene = DepthOccupancy(
        scene_depth, intrinsics, T_base_camera.inverse(), params.surface_tolerance, params.occupied_thickness
    )

    checks = [_workspace(dense, seg_of, workspace)]
    if len(obj) == 0:
        why = "no object mask given" if object_mask is None else "the object mask has no valid depth"
        checks.append(CheckResult("start-on-object", True, f"start-on-object skipped: {why}", {"skipped": True}))
        bottom = P[0, 2]
        obj = P[:1]
    else:
        d = float(np.min(np.linalg.norm(obj - P[0], axis=1)))
        msg = f"start-on-object: the trace starts {d:.3f} m from the object's nearest point (limit {params.start_tolerance:.3f} m)"
        checks.append(CheckResult("start-on-object", d <= params.start_tolerance, msg, {"distance": d, "limit": params.start_tolerance}))
        bottom = float(np.min(obj[:, 2]))
    height = max(P[0, 2] - bottom, 0.0)
    checks.append(_end_at_destination(P[-1], height, scene_depth, intrinsics, T_base_camera, params))
    checks.append(_swept_collision(P, dense, seg_of, obj, bottom, scene, params))
    return ValidationReport(tuple(checks))


def _box_of(mask: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
    """``(row0, row1, col0, col1)`` (ends exclusive) of the mask's pixels grown by ``pad``, clipped to the
    image; None for an empty mask."""
    rows = np.flatnonzero(mask.any(axis=1))
    if not len(rows):
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    h, w = mask.shape
    return max(rows[0] - pad, 0), min(rows[-1] + pad + 1, h), max(cols[0] - pad, 0), min(cols[-1] + pad + 1, w)


def _workspace(dense: np.ndarray, seg_of: np.ndarray, ws: WorkspaceBounds) -> CheckResult:
    lo, hi = np.asarray(ws.lower, float), np.asarray(ws.upper, float)
    floor = ws.table_height + ws.min_height_above_table
    excess = np.maximum(lo - dense, 0) + np.maximum(dense - hi, 0)
    below = np.maximum(floor - dense[:, 2], 0)
    worst = np.maximum(np.linalg.norm(excess, axis=1), below)
    if not np.any(worst > 0):
        return CheckResult("workspace bounds", True, "workspace bounds: the whole trace is inside the workspace", {})
    i = int(np.argmax(worst > 0))
    k = int(np.argmax(worst))
    where = "below the minimum height above the table" if below[i] > 0 else "outside the workspace box"
    msg = (
        f"workspace bounds: the trace leaves the workspace after waypoint {seg_of[i]} ({where}; point "
        f"({dense[i, 0]:.2f}, {dense[i, 1]:.2f}, {dense[i, 2]:.2f}) m, up to {worst[k]:.3f} m out)"
    )
    return CheckResult("workspace bounds", False, msg, {"waypoint": int(seg_of[i]), "max_excess": float(worst[k])})


def _surface_points_near(
    end: np.ndarray, depth: np.ndarray, K: Intrinsics, T_base_camera: RigidTransform, radius: float, z_low: float,
    max_pixels: int = 4096,
) -> np.ndarray:
    """Scene points (base frame) in the pixel window that can hold the vertical cylinder under ``end``;
    a window larger than ``max_pixels`` is sampled on a regular grid (every n-th row and column)."""
    ring = np.array([[np.cos(a), np.sin(a), 0.0] for a in np.linspace(0, 2 * np.pi, 8, endpoint=False)]) * radius
    probe = np.concatenate([end + ring, end + ring + [0, 0, z_low - end[2]], [end, [end[0], end[1], z_low]]])
    uv, z = K.project(T_base_camera.inverse().apply(probe))
    uv = uv[z > 0]
    if not len(uv):
        return np.zeros((0, 3))
    c0, r0 = np.clip(np.floor(uv.min(axis=0)).astype(int) - 2, 0, [K.width - 1, K.height - 1])
    c1, r1 = np.clip(np.ceil(uv.max(axis=0)).astype(int) + 2, 0, [K.width - 1, K.height - 1])
    stride = max(1, int(np.ceil(np.sqrt((r1 - r0 + 1) * (c1 - c0 + 1) / max_pixels))))
    rows, cols = np.mgrid[r0 : r1 + 1 : stride, c0 : c1 + 1 : stride]
    return back_project_pixels(depth, K, T_base_camera, rows.ravel(), cols.ravel())


def _end_at_destination(
    end: np.ndarray, height: float, depth: np.ndarray, K: Intrinsics, T_base_camera: RigidTransform, p: ValidationParams
) -> CheckResult:
    bottom_end = end[2] - height
    near = _surface_points_near(end, depth, K, T_base_camera, p.support_radius, bottom_end - 0.5)
    horiz = np.sum((near[:, :2] - end[:2]) ** 2, axis=1) <= p.support_radius**2
    under = near[horiz & (near[:, 2] <= end[2])]
    if len(under) == 0:
        msg = (
            f"end-at-destination: no observed surface within {p.support_radius:.2f} m under the end point "
            f"({end[0]:.2f}, {end[1]:.2f}, {end[2]:.2f}) m: the object would be released in mid-air or out of view"
        )
        return CheckResult("end-at-destination", False, msg, {"gap": None})
    surface = float(np.percentile(under[:, 2], 95))
    gap = float(bottom_end - surface)
    values = {"gap": gap, "surface_z": surface, "object_height": float(height)}
    if gap > p.end_above_tolerance:
        msg = (
            f"end-at-destination: the placed object's bottom would be {gap:.3f} m above the surface under the "
            f"end point (limit {p.end_above_tolerance:.3f} m): released in mid-air"
        )
        return CheckResult("end-at-destination", False, msg, values)
    if gap < -p.end_below_tolerance:
        msg = (
            f"end-at-destination: the placed object's bottom would be {-gap:.3f} m below the surface under the "
            f"end point (limit {p.end_below_tolerance:.3f} m): pushed into it"
        )
        return CheckResult("end-at-destination", False, msg, values)
    return CheckResult("end-at-destination", True, f"end-at-destination: rests {gap:+.3f} m from the surface under it", values)


def _swept_collision(
    P: np.ndarray,
    dense: np.ndarray,
    seg_of: np.ndarray,
    obj: np.ndarray,
    bottom: float,
    scene: DepthOccupancy,
    p: ValidationParams,
) -> CheckResult:
    step = max(1, int(np.ceil(len(obj) / p.max_object_points)))
    obj = obj[::step]
    shifts = dense - P[0]
    hit = scene.is_swept_occupied(obj, shifts)  # (K, M)
    # The support surfaces under the object at the start and at the end are touched on purpose:
    # points in a thin slab at the object's bottom over its footprint there do not count.
    # Only the (few) hits are tested.
    fp_lo = obj[:, :2].min(axis=0) - p.support_margin
    fp_hi = obj[:, :2].max(axis=0) + p.support_margin
    k_hit, m_hit = np.nonzero(hit)
    if len(k_hit):
        moved = obj[m_hit] + shifts[k_hit]  # where each hitting point is
        on_support = np.zeros(len(k_hit), dtype=bool)
        for offset in (np.zeros(3), P[-1] - P[0]):
            q = moved - offset  # ... relative to the start / end pose
            on_support |= (
                (q[:, 0] >= fp_lo[0]) & (q[:, 0] <= fp_hi[0]) & (q[:, 1] >= fp_lo[1]) & (q[:, 1] <= fp_hi[1])
                & (np.abs(q[:, 2] - bottom) <= p.support_layer)
            )
        hit[k_hit[on_support], m_hit[on_support]] = False
    ratios = hit.mean(axis=1)
    k = int(np.argmax(ratios))
    worst = float(ratios[k])
    values = {"max_ratio": worst, "waypoint": int(seg_of[k]), "limit": p.collision_ratio_limit, "object_points": len(obj)}
    if worst > p.collision_ratio_limit:
        msg = (
            f"swept-object collision: {worst:.0%} of the object's points hit occupied space at waypoint "
            f"{seg_of[k]} (limit {p.collision_ratio_limit:.0%})"
        )
        return CheckResult("swept-object collision", False, msg, values)
    msg = f"swept-object collision: at most {worst:.0%} of the object's points hit occupied space"
    return CheckResult("swept-object collision", True, msg, values)
