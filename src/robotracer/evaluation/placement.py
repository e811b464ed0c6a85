"""Check a finished placement against the instruction, from ground-truth object poses.

The demo's success criterion for "put the cup left of the plate": the cup ends upright
on the table, left of the plate *as seen from the camera*, 5–25 cm from it (centre to
centre, horizontally), and nothing else moved more than 3 cm or fell over. Other
relations are judged the same way along their own direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from robotracer.geometry.transforms import RigidTransform
from robotracer.language.instruction import Relation, SpatialInstruction

Poses = dict[str, tuple[np.ndarray, np.ndarray]]  # name -> (position (3,), quat wxyz (4,)) in the base frame


@dataclass(frozen=True)
class PlacementCriteria:
    min_distance_m: float = 0.05
    max_distance_m: float = 0.25
    distance_tolerance_m: float = 0.05  # when the instruction names a distance
    max_direction_error_deg: float = 45.0
    max_tilt_deg: float = 20.0
    max_other_motion_m: float = 0.03
    on_radius_m: float = 0.08  # ON / IN: horizontal distance to the reference's centre
    support_tolerance_m: float = 0.03  # on the table: bottom within this of the table top
    round_objects: tuple[str, ...] = ("apple", "ball", "orange")  # no upright check for these


@dataclass(frozen=True)
class PlacementReport:
    success: bool
    checks: dict[str, bool]
    details: dict = field(default_factory=dict)
    reason: str = ""

    def to_dict(self) -> dict:
        return {"success": self.success, "checks": self.checks, "details": self.details, "reason": self.reason}


def tilt_deg(quat_wxyz: np.ndarray) -> float:
    z = RigidTransform.from_xyz_quat_wxyz(np.zeros(3), quat_wxyz).rotation[:, 2]
    return float(np.degrees(np.arccos(np.clip(z[2], -1.0, 1.0))))


def camera_directions(T_base_camera: RigidTransform) -> dict[Relation, np.ndarray]:
    """Unit directions in the base frame's horizontal plane for the camera-relative relations."""
    right = T_base_camera.rotation[:, 0].copy()
    forward = T_base_camera.rotation[:, 2].copy()
    right[2] = forward[2] = 0.0
    right /= np.linalg.norm(right)
    forward /= np.linalg.norm(forward)
    return {Relation.LEFT_OF: -right, Relation.RIGHT_OF: right, Relation.BEHIND: forward, Relation.IN_FRONT_OF: -forward}


def _match(name: str, poses: Poses) -> str:
    if name in poses:
        return name
    hits = [n for n in poses if n in name.split() or name.endswith(n)]
    if len(hits) == 1:
        return hits[0]
    raise KeyError(f"no object named {name!r}; objects: {', '.join(sorted(poses))}")


def check_placement(
    instruction: SpatialInstruction,
    before: Poses,
    after: Poses,
    T_base_camera: RigidTransform,
    table_z: float = 0.0,
    criteria: PlacementCriteria = PlacementCriteria(),
) -> PlacementReport:
    moved = _match(instruction.moved_object, after)
    refs = [_match(r, after) for r in instruction.reference_objects]
    p = after[moved][0]
    checks: dict[str, bool] = {}
    details: dict = {"moved_object": moved, "references": refs, "final_position": np.round(p, 4).tolist()}

    checks["moved"] = bool(np.linalg.norm(p[:2] - before[moved][0][:2]) > 0.02)
    if moved not in criteria.round_objects:
        details["tilt_deg"] = round(tilt_deg(after[moved][1]), 2)
        checks["upright"] = details["tilt_deg"] <= criteria.max_tilt_deg

    rel = instruction.relation
    ref_p = after[refs[0]][0]
    delta = (p - ref_p)[:2]
    dist = float(np.linalg.norm(delta))
    details["distance_to_reference_m"] = round(dist, 4)
    if rel in (Relation.ON, Relation.IN):
        checks["over_reference"] = dist <= criteria.on_radius_m
        checks["above_table"] = bool(p[2] > table_z + 0.002)
    else:
        checks["on_table"] = bool(abs(p[2] - table_z) <= criteria.support_tolerance_m)
        if rel is Relation.BETWEEN:
            a, b = after[refs[0]][0][:2], after[refs[1]][0][:2]
            ab = b - a
            t = float(np.dot(p[:2] - a, ab) / max(np.dot(ab, ab), 1e-9))
            off = float(np.linalg.norm(p[:2] - (a + t * ab)))
            details["between_fraction"], details["off_line_m"] = round(t, 3), round(off, 4)
            checks["between"] = 0.2 <= t <= 0.8 and off <= 0.08
        else:
            if instruction.distance_m is not None:
                checks["distance"] = abs(dist - instruction.distance_m) <= criteria.distance_tolerance_m
            else:
                checks["distance"] = criteria.min_distance_m <= dist <= criteria.max_distance_m
            if rel in (Relation.LEFT_OF, Relation.RIGHT_OF, Relation.BEHIND, Relation.IN_FRONT_OF):
                want = camera_directions(T_base_camera)[rel][:2]
                cosang = float(np.dot(delta, want) / max(dist, 1e-9))
                err = float(np.degrees(np.arccos(np.clip(cosang, -1.0, 1.0))))
                details["direction_error_deg"] = round(err, 1)
                checks["direction"] = err <= criteria.max_direction_error_deg

    disturbed = []
    for name, (pos, quat) in after.items():
        if name == moved or name not in before:
            continue
        shift = float(np.linalg.norm(pos - before[name][0]))
        fell = name not in criteria.round_objects and tilt_deg(quat) > criteria.max_tilt_deg
        if shift > criteria.max_other_motion_m or fell:
            disturbed.append(f"{name} ({'fell over' if fell else f'moved {shift * 100:.1f} cm'})")
    checks["others_undisturbed"] = not disturbed
    if disturbed:
        details["disturbed"] = disturbed
    failed = [k for k, ok in checks.items() if not ok]
    reason = "" if not failed else "failed checks: " + ", ".join(failed)
    if disturbed:
        reason += "; disturbed: " + ", ".join(disturbed)
    return PlacementReport(success=not failed, checks=checks, details=details, reason=reason)
