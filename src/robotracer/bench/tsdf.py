"""The official scorer's scene occupancy, in numpy: open3d ``ScalableTSDFVolume`` surface voxels.

The official TraceSpatial-Bench scorer integrates the ground-truth depth (object pixels == 255
removed) into an open3d ``ScalableTSDFVolume`` (voxel 0.02 m, ``sdf_trunc`` 0.08 m, depth
truncated at 5 m), extracts the zero-crossing surface points and voxelises them with
``VoxelGrid.create_from_point_cloud``. With open3d 0.20.0 that volume extracts no points at
all (the scorer then silently counts every trace as collision-free); open3d 0.18/0.19 work.
This module reproduces the working versions' arithmetic (float32 integration with the
depth-to-ray-distance multiplier, 16³-voxel units touched by the stride-4 point cloud, the
extraction's ``|tsdf| < 0.98`` rule, the voxel grid's half-voxel origin) without open3d, for
one frame and an identity camera pose, and vectorised: about 10x faster.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

UNIT_RESOLUTION = 16  # open3d ScalableTSDFVolume volume_unit_resolution
DEPTH_SAMPLING_STRIDE = 4  # open3d ScalableTSDFVolume depth_sampling_stride


@dataclass(frozen=True)
class SurfaceOccupancy:
    """Occupied voxels of the official scorer's ``VoxelGrid``.

    Attributes:
        keys: sorted ``(N,)`` int64 encoded voxel indices (see :meth:`encode`).
        origin: ``(3,)`` float64 grid origin (min surface point − half a voxel).
        voxel_size: metres.
        surface_points: ``(P, 3)`` float64 TSDF zero-crossing points.
    """

    keys: np.ndarray
    origin: np.ndarray
    voxel_size: float
    surface_points: np.ndarray

    @staticmethod
    def encode(idx: np.ndarray) -> np.ndarray:
        """``(..., 3)`` int voxel indices -> ``(...)`` int64 keys (21 bits per axis, offset for negatives)."""
        idx = np.asarray(idx, dtype=np.int64) + (1 << 20)
        return (idx[..., 0] << 42) | (idx[..., 1] << 21) | idx[..., 2]

    @property
    def indices(self) -> np.ndarray:
        """``(N, 3)`` int64 occupied voxel indices."""
        k = self.keys
        return np.stack([(k >> 42) & 0x1FFFFF, (k >> 21) & 0x1FFFFF, k & 0x1FFFFF], axis=1) - (1 << 20)

    def contains(self, points: np.ndarray) -> np.ndarray:
        """``(...)`` bool: the official lookup ``((p - origin) / voxel_size).astype(int) in occupied``.

        Note the truncation toward zero (not floor) of the official code, kept on purpose.
        """
        idx = ((np.asarray(points) - self.origin) / self.voxel_size).astype(np.int64)
        keys = self.encode(idx)
        if not len(self.keys):
            return np.zeros(keys.shape, dtype=bool)
        pos = np.clip(np.searchsorted(self.keys, keys), 0, len(self.keys) - 1)
        return self.keys[pos] == keys


def depth_to_camera_distance_multiplier(width: int, height: int, fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    """``(H, W)`` float32 ``sqrt(1 + x² + y²)`` per pixel, as open3d computes it (float32)."""
    xx = (np.arange(width, dtype=np.float32) - np.float32(cx)) * (np.float32(1.0) / np.float32(fx))
    yy = (np.arange(height, dtype=np.float32) - np.float32(cy)) * (np.float32(1.0) / np.float32(fy))
    return np.sqrt(xx[None, :] * xx[None, :] + yy[:, None] * yy[:, None] + np.float32(1.0))


@functools.lru_cache(maxsize=8)
def _multiplier(width: int, height: int, fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    m = depth_to_camera_distance_multiplier(width, height, fx, fy, cx, cy)
    m.setflags(write=False)
    return m


def touched_units(depth_m: np.ndarray, fx: float, fy: float, cx: float, cy: float, sdf_trunc: float, unit_length: float) -> np.ndarray:
    """``(U, 3)`` int64 sorted unique volume-unit indices the stride-4 point cloud touches (± sdf_trunc)."""
    sub = depth_m[::DEPTH_SAMPLING_STRIDE, ::DEPTH_SAMPLING_STRIDE].astype(np.float64)
    rows, cols = np.nonzero(sub > 0)
    z = sub[rows, cols]
    x = (cols * DEPTH_SAMPLING_STRIDE - cx) * z / fx
    y = (rows * DEPTH_SAMPLING_STRIDE - cy) * z / fy
    pts = np.stack([x, y, z], axis=1)
    lo = np.floor((pts - sdf_trunc) / unit_length).astype(np.int64)
    hi = np.floor((pts + sdf_trunc) / unit_length).astype(np.int64)
    span = hi - lo  # 0 or 1 per axis (sdf_trunc < unit length)
    if np.any(span > 1):
        raise ValueError("sdf_trunc must be shorter than half a volume unit")
    if not len(lo):
        return np.zeros((0, 3), dtype=np.int64)
    # mark each point's lower unit on a small dense grid per span pattern (8 patterns), then
    # dilate every pattern's grid by the steps it allows: the marked cells are the touched
    # units, in (x, y, z) lexicographic order
    base = lo.min(axis=0)
    rel = lo - base
    dims = tuple(rel.max(axis=0) + 2)
    pattern = (span[:, 0] << 2) | (span[:, 1] << 1) | span[:, 2]
    marks = np.zeros(8 * dims[0] * dims[1] * dims[2], dtype=bool)
    marks[((pattern * dims[0] + rel[:, 0]) * dims[1] + rel[:, 1]) * dims[2] + rel[:, 2]] = True
    marks = marks.reshape((8,) + dims)
    grid = np.zeros(dims, dtype=bool)
    for code in range(8):
        m = marks[code]
        sx, sy, sz = (code >> 2) & 1, (code >> 1) & 1, code & 1
        for dx in range(sx + 1):
            for dy in range(sy + 1):
                for dz in range(sz + 1):
                    grid[dx:, dy:, dz:] |= m[: dims[0] - dx, : dims[1] - dy, : dims[2] - dz]
    return np.stack(np.nonzero(grid), axis=1).astype(np.int64) + base


def integrate_units(depth_m: np.ndarray, units: np.ndarray, fx, fy, cx, cy, voxel_length: float, sdf_trunc: float):
    """TSDF and weight of every voxel of ``units``: ``(U, R, R, R)`` float32 each, indexed [unit, x, y, z]."""
    tsdf, valid = _integrate(depth_m, units, fx, fy, cx, cy, voxel_length, sdf_trunc)
    return tsdf, valid.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _padded_multiplier(width: int, height: int, fx: float, fy: float, cx: float, cy: float) -> np.ndarray:
    m = np.ones((height + 1, width + 1), dtype=np.float32)
    m[:height, :width] = _multiplier(width, height, fx, fy, cx, cy)
    m.setflags(write=False)
    return m


def _integrate(depth_m: np.ndarray, units: np.ndarray, fx, fy, cx, cy, voxel_length: float, sdf_trunc: float):
    """``(tsdf float32, weight != 0 bool)``, each ``(U, R, R, R)``: open3d's per-voxel integration, vectorised."""
    H, W = depth_m.shape
    R = UNIT_RESOLUTION
    unit_length = voxel_length * R
    vl = np.float32(voxel_length)
    half = np.float32(voxel_length * 0.5)
    ar = np.arange(R, dtype=np.float32)
    origins = (units.astype(np.float64) * unit_length).astype(np.float32)  # (U, 3) (float)origin_
    # x, y of voxel centres: half + vl * i + origin (float32, left to right)
    xs = (half + vl * ar)[None, :] + origins[:, 0:1]  # (U, R)
    ys = (half + vl * ar)[None, :] + origins[:, 1:2]
    # z: starts at half + origin_z and accumulates + vl per step (float32 running sum)
    # (the first z is rounded once from double precision, as open3d's start point is: not half + (float)origin)
    z0 = (voxel_length * 0.5 + units[:, 2].astype(np.float64) * unit_length).astype(np.float32)
    zs = np.cumsum(np.concatenate([z0[:, None], np.full((len(units), R - 1), vl, dtype=np.float32)], axis=1), axis=1, dtype=np.float32)
    fx32, fy32, cx32, cy32 = np.float32(fx), np.float32(fy), np.float32(cx), np.float32(cy)
    # u_f = x * fx / z + cx + 0.5 : shape (U, R_x, R_z); v_f: (U, R_y, R_z)
    u_f = (xs[:, :, None] * fx32) / zs[:, None, :] + cx32 + np.float32(0.5)
    v_f = (ys[:, :, None] * fy32) / zs[:, None, :] + cy32 + np.float32(0.5)
    eps = np.float32(0.0001)
    u_ok = (zs[:, None, :] > 0) & (u_f >= eps) & (u_f < np.float32(W) - eps)
    v_ok = (v_f >= eps) & (v_f < np.float32(H) - eps)
    # pixels outside the image go to an extra zero-depth column / row: one gather, d > 0 rejects them
    ui = np.where(u_ok, u_f, np.float32(W)).astype(np.intp)
    vi = np.where(v_ok, v_f, np.float32(H)).astype(np.intp) * (W + 1)
    padded = np.zeros((H + 1, W + 1), dtype=np.float32)
    padded[:H, :W] = depth_m
    mult = _padded_multiplier(W, H, float(fx), float(fy), float(cx), float(cy))
    flat = vi[:, None, :, :] + ui[:, :, None, :]  # (U, x, y, z)
    d = padded.ravel().take(flat)
    sdf = (d - zs[:, None, None, :]) * mult.ravel().take(flat)
    trunc = np.float32(sdf_trunc)
    valid = (d > 0) & (sdf > -trunc)
    # open3d multiplies by the float32 inverse of sdf_trunc (not a division): bit-identical values
    np.multiply(sdf, np.float32(1.0) / trunc, out=sdf)
    np.minimum(sdf, np.float32(1.0), out=sdf)
    sdf[~valid] = 0
    return sdf, valid


def extract_surface_points(units: np.ndarray, tsdf: np.ndarray, weight: np.ndarray, voxel_length: float) -> np.ndarray:
    """``(P, 3)`` float64 zero-crossing points, the rule of ``ScalableTSDFVolume.ExtractPointCloud``.

    A voxel and its next neighbour along an axis (in the next unit at the far face; none there:
    weight 0) both with weight != 0 and -0.98 <= tsdf < 0.98, and tsdf of opposite signs, give one
    point interpolated along that axis. Only the (sparse) voxels passing the rule are visited.
    """
    R = UNIT_RESOLUTION
    unit_length = voxel_length * R
    flat_t = tsdf.reshape(-1)
    good = ((weight != 0) & (tsdf < np.float32(0.98)) & (tsdf >= np.float32(-0.98))).reshape(-1)
    g = np.flatnonzero(good)
    if not len(g):
        return np.zeros((0, 3))
    u, rem = np.divmod(g, R**3)
    xyz = np.stack([rem // (R * R), (rem // R) % R, rem % R], axis=1)
    f0 = flat_t[g]
    keys = SurfaceOccupancy.encode(units)
    order = np.argsort(keys)
    skeys = keys[order]
    out = []
    for axis in range(3):
        stride = R ** (2 - axis)
        nb = g + stride
        face = xyz[:, axis] == R - 1
        if face.any():
            step = np.zeros(3, dtype=np.int64)
            step[axis] = 1
            nkeys = SurfaceOccupancy.encode(units[u[face]] + step)
            pos = np.clip(np.searchsorted(skeys, nkeys), 0, len(skeys) - 1)
            found = skeys[pos] == nkeys
            # first slice of the neighbour unit; no neighbour: index -1, rejected below
            nb[face] = np.where(found, order[pos] * R**3 + (rem[face] - (R - 1) * stride), -1)
        ok = nb >= 0
        ok[ok] = good[nb[ok]]
        f1 = np.zeros_like(f0)
        f1[ok] = flat_t[nb[ok]]
        cross = ok & (f0 * f1 < 0)
        if not cross.any():
            continue
        r0 = np.abs(f0[cross]).astype(np.float64)
        r1 = np.abs(f1[cross]).astype(np.float64)
        s = (np.abs(f0[cross]) + np.abs(f1[cross])).astype(np.float64)  # float32 sum, as open3d
        p = (voxel_length * 0.5 + voxel_length * xyz[cross].astype(np.float64)) + units[u[cross]].astype(np.float64) * unit_length
        p[:, axis] = (p[:, axis] * r1 + (p[:, axis] + voxel_length) * r0) / s
        out.append(p)
    return np.concatenate(out) if out else np.zeros((0, 3))


def scene_surface_occupancy(
    depth_mm: np.ndarray,
    intrinsics_matrix,
    voxel_size: float = 0.02,
    depth_scale: float = 1000.0,
    depth_trunc: float = 5.0,
) -> SurfaceOccupancy:
    """The official ``create_occupancy_grid_from_tsdf`` for a depth image already stripped of the object.

    Args:
        depth_mm: ``(H, W)`` float32 depth in millimetres (0 = none).
        intrinsics_matrix: 3x3 camera matrix (full float64 precision, as the official code uses it).

    Raises:
        ValueError: no surface at all (the official code raises too; the scorer then counts no collision).
    """
    K = np.asarray(intrinsics_matrix, dtype=np.float64)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    d = np.asarray(depth_mm, dtype=np.float32) / np.float32(depth_scale)
    d[d >= np.float32(depth_trunc)] = 0.0
    sdf_trunc = 4 * voxel_size
    units = touched_units(d, fx, fy, cx, cy, sdf_trunc, voxel_size * UNIT_RESOLUTION)
    if not len(units):
        raise ValueError("TSDF extracted no points: the depth image is empty")
    tsdf, weight = _integrate(d, units, fx, fy, cx, cy, voxel_size, sdf_trunc)
    pts = extract_surface_points(units, tsdf, weight, voxel_size)
    if not len(pts):
        raise ValueError("TSDF extracted no points. Please check depth image and intrinsics.")
    origin = pts.min(axis=0) - np.full(3, voxel_size) * 0.5
    idx = np.floor((pts - origin) / voxel_size).astype(np.int64)
    return SurfaceOccupancy(np.unique(SurfaceOccupancy.encode(idx)), origin, float(voxel_size), pts)
