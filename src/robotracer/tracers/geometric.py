"""``geometric``: a weight-free tracer that plans the trace from depth and a labelled segmentation.

It answers in RoboTracer's format (``[(x, y, d), ...]``, ``x, y`` in [0, 1000], ``d`` the
camera-frame depth in metres) so the rest of the stack cannot tell it from the model.

Trace contract (shared with the robot side): the trace is the path of the moved object's
TOP-CENTRE point.

- point 0: the top centre of the object where it stands now (from its observed depth);
- then straight up to a carry height where the object's bottom clears every object along
  the way (and the destination) by ``clearance_m``;
- carried level to above the destination, lowered straight down;
- last point: where the top centre will be once the object rests at the destination:
  table height + object height for left of / right of / in front of / behind / next to /
  between, or on the reference's surface at its centre for on / in.

Planning happens in the camera frame, no robot extrinsics: the table plane is fitted to the
pixels labelled ``table``; *left / right* are the camera's x axis projected on the table
("as seen from the camera"), *in front of* is toward the camera and *behind* away from it,
both along the table. Objects are taken to stand on the table; their footprints are circles
(see :func:`robotracer.perception.support.measure_object`).

Destination offset from the reference (centre to centre): the given distance
("10 cm left of"), else reference radius + moved radius + ``gap_m`` so they do not touch.
The destination must keep ``separation_m`` from every other object and the footprint must
lie on the visible table, otherwise :class:`TracerError` says why.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robotracer.language.instruction import InstructionError, Relation, SpatialInstruction, parse_instruction
from robotracer.perception.grounding import GroundingError, SegmentationGrounder
from robotracer.perception.support import (
    ObjectExtent,
    SupportPlane,
    SupportPlaneError,
    fit_support_plane,
    measure_object,
)
from robotracer.trace.types import NORMALIZED_RANGE, Trace
from robotracer.tracers.base import Observation, TracerAnswer, TracerError

_DIRECTIONS = {  # in-plane (right, away) unit vectors
    Relation.LEFT_OF: np.array([-1.0, 0.0]),
    Relation.RIGHT_OF: np.array([1.0, 0.0]),
    Relation.IN_FRONT_OF: np.array([0.0, -1.0]),
    Relation.BEHIND: np.array([0.0, 1.0]),
}


SEGMENTATION, TABLE = "segmentation", "table"  # keys of ScenePerception.failures besides object names


@dataclass(frozen=True)
class ScenePerception:
    """What the geometric tracer sees in one frame, before any instruction (:meth:`GeometricTracer.perceive`).

    Attributes:
        stamp: the observation's capture time.
        grounder: the objects in view (None: no labelled segmentation).
        plane: the fitted table plane (None: no table found).
        extents: footprint and height of every visible object standing on the table.
        failures: why something could not be perceived: ``"segmentation"``, ``"table"`` or an object's name.
    """

    stamp: float
    grounder: SegmentationGrounder | None
    plane: SupportPlane | None
    extents: dict[str, ObjectExtent]
    failures: dict[str, str]


@dataclass(frozen=True)
class GeometricPlan:
    """What the geometric tracer planned, in the camera optical frame.

    Attributes:
        instruction: the parsed instruction.
        moved: extent of the object to move; ``references``: of the reference object(s).
        destination: ``(2,)`` float64 in-plane footprint centre where the object will rest.
        rest_bottom: metres above the table of the object's bottom at the destination.
        carry_height: metres above the table of the top-centre point while carried.
        points: ``(N, 3)`` float64 top-centre path in the camera optical frame.
        plane: the fitted table plane.
    """

    instruction: SpatialInstruction
    moved: ObjectExtent
    references: tuple[ObjectExtent, ...]
    destination: np.ndarray
    rest_bottom: float
    carry_height: float
    points: np.ndarray
    plane: SupportPlane


class GeometricTracer:
    """Weight-free tracer backend registered as ``geometric``.

    Args:
        clearance_m: clearance between the carried object's bottom and the tallest object
            along the way (and the destination surface).
        gap_m: gap between the moved object and the reference when no distance is given.
        separation_m: minimal gap between the placed object and any other object.
        num_points: trace length, 6-12 points (RoboTracer's range).
        table_stride: use every n-th row and column of the table pixels for the plane fit
            (the table extent uses its full outline).
        min_object_pixels: objects with fewer visible pixels are not in view.
    """

    name = "geometric"

    def __init__(
        self,
        clearance_m: float = 0.05,
        gap_m: float = 0.05,
        separation_m: float = 0.01,
        num_points: int = 8,
        table_stride: int = 4,
        min_object_pixels: int = 20,
    ) -> None:
        if not 6 <= int(num_points) <= 12:
            raise ValueError(f"num_points must be between 6 and 12 (RoboTracer's trace length), got {num_points}")
        for key, value in (("clearance_m", clearance_m), ("gap_m", gap_m), ("separation_m", separation_m)):
            if not value >= 0:
                raise ValueError(f"{key} must be >= 0 metres, got {value}")
        if int(table_stride) < 1:
            raise ValueError(f"table_stride must be >= 1, got {table_stride}")
        self.clearance_m = float(clearance_m)
        self.gap_m = float(gap_m)
        self.separation_m = float(separation_m)
        self.num_points = int(num_points)
        self.table_stride = int(table_stride)
        self.min_object_pixels = int(min_object_pixels)

    def infer(
        self, observation: Observation, instruction: str | SpatialInstruction, scene: "ScenePerception | None" = None
    ) -> TracerAnswer:
        """Plan the trace and answer in RoboTracer's text format (see the module docstring); ``scene``:
        :meth:`perceive` of ``observation`` when it was done beforehand.

        Raises:
            TracerError: unparseable instruction, unknown / ambiguous object, no table in
                view, a destination off the table or on another object, a trace leaving the image.
        """
        plan = self.plan(observation, instruction, scene)
        intr = observation.intrinsics
        pixels, depth = intr.project(plan.points)
        uv = pixels / np.array([intr.width, intr.height]) * NORMALIZED_RANGE
        outside = np.flatnonzero(np.any((uv < 0) | (uv > NORMALIZED_RANGE), axis=1) | (depth <= 0))
        if outside.size:
            raise TracerError(
                f"the trace leaves the camera view at point {int(outside[0])} (carried {plan.carry_height:.2f} m "
                f"above the table); lower clearance_m or choose a destination further inside the image"
            )
        text = Trace(np.column_stack([uv, depth]), image_size=(intr.width, intr.height)).to_text(decimals=3)
        return TracerAnswer.from_text(
            text, backend=self.name, image_size=(intr.width, intr.height), moved_object=plan.moved.name
        )

    def perceive(self, observation: Observation) -> "ScenePerception":
        """What this tracer sees in ``observation`` before any instruction: the objects in view, the
        table plane and every object's extent on it (the bulk of :meth:`plan`'s work). Never raises:
        what cannot be perceived is recorded in ``failures`` and raised by :meth:`plan` when it matters."""
        try:
            grounder = SegmentationGrounder.from_observation(observation, min_pixels=self.min_object_pixels)
        except GroundingError as exc:
            return ScenePerception(observation.stamp, None, None, {}, {SEGMENTATION: str(exc)})
        try:
            plane = fit_support_plane(
                grounder.scene_points("table", self.table_stride), outline=grounder.scene_outline_points("table")
            )
        except (GroundingError, SupportPlaneError) as exc:
            return ScenePerception(observation.stamp, grounder, None, {}, {TABLE: str(exc)})
        extents, failures = {}, {}
        for name in grounder.visible_objects:
            try:
                extents[name] = measure_object(name, grounder.find(name).points, plane)
            except (GroundingError, SupportPlaneError) as exc:  # flat, hidden or without depth
                failures[name] = str(exc)
        return ScenePerception(observation.stamp, grounder, plane, extents, failures)

    def plan(
        self, observation: Observation, instruction: str | SpatialInstruction, scene: "ScenePerception | None" = None
    ) -> GeometricPlan:
        """The 3D plan behind :meth:`infer` (same errors); ``scene``: :meth:`perceive` of ``observation``
        when it was done beforehand."""
        try:
            inst = instruction if isinstance(instruction, SpatialInstruction) else parse_instruction(instruction)
        except InstructionError as exc:
            raise TracerError(str(exc)) from exc
        scene = self.perceive(observation) if scene is None else scene
        if scene.grounder is None:
            raise TracerError(scene.failures[SEGMENTATION])
        try:
            moved_obj = scene.grounder.find(inst.moved_object)
            ref_objs = [scene.grounder.find(r) for r in inst.reference_objects]
        except GroundingError as exc:
            raise TracerError(str(exc)) from exc
        if scene.plane is None:
            raise TracerError(scene.failures[TABLE])
        plane = scene.plane
        ref_names = [r.name for r in ref_objs]
        if moved_obj.name in ref_names:
            raise TracerError(f"the {moved_obj.name} cannot be placed relative to itself "
                              f"('{inst.moved_object}' and '{inst.reference_objects[ref_names.index(moved_obj.name)]}' "
                              f"both mean the {moved_obj.name})")
        if len(set(ref_names)) < len(ref_names):
            raise TracerError(f"'between' needs two different objects; both names mean the {ref_names[0]}")
        for name in [moved_obj.name, *ref_names]:
            if name not in scene.extents:
                raise TracerError(f"{scene.failures[name]}: is it standing on the table?")
        extents = {n: scene.extents[n] for n in [moved_obj.name, *ref_names]}
        extents.update((n, e) for n, e in scene.extents.items() if n not in extents)  # the other objects
        moved = extents[moved_obj.name]
        refs = tuple(extents[n] for n in ref_names)
        others = [e for n, e in extents.items() if n != moved.name]

        destination, rest_bottom = self._destination(inst, moved, refs, others, plane)
        carry_height = self._carry_height(moved, destination, rest_bottom, others, inst)
        corners = plane.from_plane(
            np.array([moved.centre, moved.centre, destination, destination]),
            np.array([moved.height, carry_height, carry_height, rest_bottom + moved.height]),
        )
        points = _polyline_points(corners, self.num_points)
        return GeometricPlan(inst, moved, refs, destination, rest_bottom, carry_height, points, plane)

    # --- destination ----------------------------------------------------------------

    def _destination(self, inst, moved, refs, others, plane) -> tuple[np.ndarray, float]:
        rel = inst.relation
        if rel in (Relation.ON, Relation.IN):
            ref = refs[0]
            if rel is Relation.IN and moved.radius > ref.radius:
                raise TracerError(
                    f"the {moved.name} ({200 * moved.radius:.0f} cm wide) does not fit in the {ref.name} "
                    f"({200 * ref.radius:.0f} cm wide)"
                )
            reason = self._placement_problem(ref.centre, moved, [o for o in others if o.name != ref.name], plane)
            if reason:
                raise TracerError(f"cannot put the {moved.name} {rel.phrase} the {ref.name}: {reason}")
            return ref.centre.copy(), ref.support_height
        if rel is Relation.BETWEEN:
            a, b = refs
            centre = (a.centre + b.centre) / 2.0
            reason = self._placement_problem(centre, moved, others, plane)
            if reason:
                raise TracerError(f"no room for the {moved.name} between the {a.name} and the {b.name}: {reason}")
            return centre, 0.0
        ref = refs[0]
        offset = inst.distance_m if inst.distance_m is not None else ref.radius + moved.radius + self.gap_m
        candidates = [rel] if rel in _DIRECTIONS else sorted(
            _DIRECTIONS, key=lambda r: np.linalg.norm(ref.centre + offset * _DIRECTIONS[r] - moved.centre)
        )
        problems = []
        for side in candidates:
            centre = ref.centre + offset * _DIRECTIONS[side]
            reason = self._placement_problem(centre, moved, others, plane)
            if not reason:
                return centre, 0.0
            problems.append(f"{side.phrase}: {reason}" if len(candidates) > 1 else reason)
        where = f"{offset * 100:.0f} cm {rel.phrase} the {ref.name}"
        raise TracerError(f"cannot put the {moved.name} {where}: {'; '.join(problems)}")

    def _placement_problem(self, centre, moved, others, plane) -> str:
        """Why a footprint of ``moved``'s radius at ``centre`` cannot be used ('' when it can)."""
        for o in others:
            gap = float(np.linalg.norm(centre - o.centre)) - o.radius - moved.radius
            if gap < self.separation_m:
                return (f"it would touch the {o.name} (gap {100 * gap:.0f} cm, "
                        f"{100 * self.separation_m:.0f} cm needed)")
        inside = float(plane.inside_distance(centre)[0])
        if inside < moved.radius:
            return "that spot is off the visible table" if inside < 0 else "it would overhang the edge of the visible table"
        return ""

    def _carry_height(self, moved, destination, rest_bottom, others, inst) -> float:
        """Height of the top-centre point while carried: bottom above everything on the way + clearance."""
        start = moved.centre
        seg = destination - start
        length2 = float(seg @ seg)
        tallest = max(rest_bottom, 0.0)
        for o in others:
            t = 0.0 if length2 == 0 else float(np.clip((o.centre - start) @ seg / length2, 0.0, 1.0))
            dist = float(np.linalg.norm(start + t * seg - o.centre))
            if dist < o.radius + moved.radius + self.separation_m:
                tallest = max(tallest, o.height)
        return tallest + self.clearance_m + moved.height


def _polyline_points(corners: np.ndarray, n: int) -> np.ndarray:
    """``(n, 3)`` points along the polyline through ``(K, 3)`` corners, keeping every corner.

    The ``n - K`` extra points go to the segments in proportion to their length.
    """
    seg = np.diff(corners, axis=0)
    lengths = np.linalg.norm(seg, axis=1)
    extra = n - corners.shape[0]
    share = lengths / lengths.sum() * extra if lengths.sum() > 0 else np.full(len(lengths), extra / len(lengths))
    counts = np.floor(share).astype(int)
    for i in np.argsort(-(share - counts))[: extra - counts.sum()]:  # largest remainders
        counts[i] += 1
    out = [corners[0]]
    for i, k in enumerate(counts):
        for j in range(1, k + 2):
            out.append(corners[i] + seg[i] * j / (k + 1))
    return np.asarray(out)
