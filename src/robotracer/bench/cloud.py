"""The official scorer's object point cloud: mask + depth, outlier removal, voxel downsampling, DBSCAN.

open3d's point-cloud operations work in 0.20.0 (only its ScalableTSDFVolume does not), so the
cleanup calls them exactly as the official ``process_pcd`` does. open3d needs the Debian
package ``libusb-1.0-0`` to import.
"""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np

DEPTH_SCALE = 1000.0  # PNG depth in millimetres


def _o3d():
    try:
        import open3d as o3d
    except ImportError as exc:  # pragma: no cover - depends on the system
        raise ImportError(
            f"open3d is needed for the benchmark's object point cloud ({exc}); install it with "
            "`pip install open3d==0.20.0` and the system library with `apt-get install libusb-1.0-0`"
        ) from exc
    return o3d


def mask_points(mask_gray: np.ndarray, depth_mm: np.ndarray, intrinsics_matrix) -> np.ndarray:
    """``(N, 3)`` float64 camera-frame points of mask > 0 pixels with 0 < depth < 15 m (mask resized if needed)."""
    if mask_gray.shape != depth_mm.shape:
        mask_gray = cv2.resize(mask_gray, (depth_mm.shape[1], depth_mm.shape[0]), interpolation=cv2.INTER_NEAREST)
    K = np.array(intrinsics_matrix)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    sel = (mask_gray > 0) & (depth_mm > 0) & (depth_mm < DEPTH_SCALE * 15)
    v, u = np.nonzero(sel)
    z = depth_mm[v, u] / DEPTH_SCALE
    return np.vstack(((u - cx) * z / fx, (v - cy) * z / fy, z)).T


def clean_cloud(points: np.ndarray, dbscan_eps: float = 0.02, dbscan_min_points: int = 10) -> np.ndarray:
    """Statistical outlier removal (10 / 1.2), voxel downsample max(0.01, (3·‖std‖ + 1e-6) / 40), largest DBSCAN cluster."""
    o3d = _o3d()
    pcd = o3d.geometry.PointCloud()
    pcd.points = o3d.utility.Vector3dVector(points)
    if not pcd.has_points():
        return np.zeros((0, 3))
    scale = np.linalg.norm(np.asarray(pcd.points).std(axis=0)) * 3.0 + 1e-6
    pcd, _ = pcd.remove_statistical_outlier(nb_neighbors=10, std_ratio=1.2)
    pcd = pcd.voxel_down_sample(voxel_size=max(0.01, scale / 40))
    labels = np.array(pcd.cluster_dbscan(eps=dbscan_eps, min_points=dbscan_min_points))
    pts = np.asarray(pcd.points)
    counter = Counter(labels)
    counter.pop(-1, None)
    if counter:
        label, _ = counter.most_common(1)[0]
        largest = pts[labels == label]
        if len(largest) >= 5:
            return largest
    return pts


def object_cloud(mask_gray: np.ndarray, depth_mm: np.ndarray, intrinsics_matrix) -> np.ndarray:
    """The official ``create_object_pcd_from_mask``: ``(N, 3)`` float64 cleaned object points."""
    return clean_cloud(mask_points(mask_gray, depth_mm, intrinsics_matrix))
