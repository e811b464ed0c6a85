"""Ground object names in a labelled segmentation image and measure them with depth.

The segmentation comes with the :class:`~robotracer.tracers.base.Observation`
(``segmentation`` ids + ``labels`` {id: name}). In simulation these labels are the
simulator's ground truth (``label_source == SIM_GROUND_TRUTH``): perfect perception,
stated as such wherever it is used. Several ids with the same name (the geoms of one
body) form one object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from robotracer.geometry.camera import Intrinsics

SIM_GROUND_TRUTH = "sim_ground_truth"
"""``label_source`` of segmentations rendered by the simulator (ground-truth perception)."""

DEFAULT_SCENE_WORDS = (
    "table", "floor", "ground", "wall", "background", "world", "robot", "ur5e", "ur5", "arm",
    "gripper", "robotiq", "2f85", "finger", "link", "g1", "humanoid", "camera",
)
"""A label containing one of these words is scenery or robot, never an object to move."""

_DETERMINERS = {"the", "a", "an", "this", "that"}


class GroundingError(LookupError):
    """An object name could not be matched to exactly one visible object."""


@dataclass(frozen=True)
class GroundedObject:
    """One object found in the image.

    Attributes:
        name: the object's label (as the segmentation names it).
        label_ids: the segmentation ids that make it up.
        pixels: ``(M, 2)`` int64 (column, row) of all its pixels.
        points: ``(N, 3)`` float64 camera optical-frame points of its pixels with valid depth.
        image_size: ``(width, height)`` of the image.
    """

    name: str
    label_ids: tuple[int, ...]
    pixels: np.ndarray
    points: np.ndarray
    image_size: tuple[int, int]

    @property
    def pixel_count(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def mask(self) -> np.ndarray:
        """``(H, W)`` bool, its pixels."""
        w, h = self.image_size
        m = np.zeros((h, w), dtype=bool)
        m[self.pixels[:, 1], self.pixels[:, 0]] = True
        return m

    @property
    def centroid(self) -> np.ndarray:
        """``(3,)`` float64 mean of the visible points (biased toward the camera-facing side)."""
        return self.points.mean(axis=0)

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        """Pixel box ``(col_min, row_min, col_max, row_max)``, inclusive."""
        lo, hi = self.pixels.min(axis=0), self.pixels.max(axis=0)
        return int(lo[0]), int(lo[1]), int(hi[0]), int(hi[1])


def normalize_name(name: str) -> str:
    """``"The Red_Cup"`` -> ``"red cup"``: lower case, separators to spaces, no leading article."""
    words = re.sub(r"[_\-/.:]+", " ", name.lower()).split()
    while len(words) > 1 and words[0] in _DETERMINERS:
        words.pop(0)
    return " ".join(words)


def label_mask(segmentation: np.ndarray, ids) -> np.ndarray:
    """``(H, W)`` bool: pixels whose id is one of ``ids`` (a comparison per id; ``np.isin`` sorts
    the whole image and costs about a hundred times more on a 640x480 frame)."""
    ids = [int(i) for i in ids]
    seg = np.asarray(segmentation)
    if not ids:
        return np.zeros(seg.shape, dtype=bool)
    mask = seg == ids[0]
    for i in ids[1:]:
        mask |= seg == i
    return mask


def back_project_pixels(pixels: np.ndarray, depth: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """``(N, 3)`` float64 optical-frame points of ``(M, 2)`` (column, row) pixels with valid depth (finite, > 0)."""
    z = depth[pixels[:, 1], pixels[:, 0]].astype(np.float64)
    ok = np.isfinite(z) & (z > 0)
    return intrinsics.back_project(pixels[ok].astype(np.float64), z[ok])


class SegmentationGrounder:
    """Finds named objects in one observation's labelled segmentation.

    Args:
        segmentation: ``(H, W)`` integer ids, 0 = background.
        labels: ``{id: name}``.
        depth: ``(H, W)`` float metres (0 / NaN = hole).
        intrinsics: the camera of ``depth``.
        label_source: where the labels come from (:data:`SIM_GROUND_TRUTH` in simulation).
        scene_words: label words that mark scenery / robot parts rather than objects.
        min_pixels: fewer visible pixels than this and an object counts as not in view.
    """

    def __init__(
        self,
        segmentation: np.ndarray,
        labels: dict[int, str],
        depth: np.ndarray,
        intrinsics: Intrinsics,
        *,
        label_source: str = "",
        scene_words: tuple[str, ...] = DEFAULT_SCENE_WORDS,
        min_pixels: int = 20,
    ) -> None:
        if segmentation is None or not labels:
            raise GroundingError(
                "no labelled segmentation in this observation: object grounding needs segmentation ids "
                "and their names (e.g. the simulator's ground-truth segmentation)"
            )
        self.segmentation = np.asarray(segmentation)
        self.depth = depth
        self.intrinsics = intrinsics
        self.label_source = label_source
        self._flat = self.segmentation.ravel()
        self._cache: dict[str, GroundedObject] = {}
        self._flat_cache: dict[tuple[int, ...], np.ndarray] = {}
        counts = np.bincount(self._flat, minlength=max(labels) + 1)
        self._counts = counts
        self._ids_by_name: dict[str, list[int]] = {}
        self._pixels_by_name: dict[str, int] = {}
        for label_id in sorted(labels):
            name = normalize_name(labels[label_id])
            self._ids_by_name.setdefault(name, []).append(int(label_id))
            self._pixels_by_name[name] = self._pixels_by_name.get(name, 0) + int(counts[label_id])
        scene = set(scene_words)
        self._scene_names = [n for n in self._ids_by_name if scene & set(n.split())]
        self._object_names = [n for n in self._ids_by_name if n not in self._scene_names]
        self._min_pixels = min_pixels

    @classmethod
    def from_observation(cls, observation, **kwargs) -> "SegmentationGrounder":
        """From a :class:`~robotracer.tracers.base.Observation`."""
        return cls(
            observation.segmentation,
            observation.labels,
            observation.depth,
            observation.intrinsics,
            label_source=observation.label_source,
            **kwargs,
        )

    @property
    def is_ground_truth(self) -> bool:
        """True when the labels are the simulator's ground truth, not a perception model's output."""
        return self.label_source == SIM_GROUND_TRUTH

    @property
    def visible_objects(self) -> list[str]:
        """Names of the objects in view (scenery and robot parts excluded), in label-id order."""
        return [n for n in self._object_names if self._pixels_by_name[n] >= self._min_pixels]

    def resolve(self, name: str) -> str:
        """The label of the one visible object that ``name`` means.

        Exact match first; then tolerant: a label whose words are all in ``name``
        (``"red cup"`` -> ``"cup"``) or that contains all of ``name``'s words
        (``"cup"`` -> ``"coffee cup"``), if exactly one label fits.

        Raises:
            GroundingError: no visible object fits (the message lists the objects seen),
                several fit, or ``name`` is scenery / not in view.
        """
        query = normalize_name(name)
        seen = self.visible_objects
        seen_text = ", ".join(seen) if seen else "none"
        if query in seen:
            return query
        words = set(query.split())
        fits = [n for n in seen if set(n.split()) <= words or words <= set(n.split())]
        if len(fits) == 1:
            return fits[0]
        if len(fits) > 1:
            raise GroundingError(f"'{name}' could be any of: {', '.join(fits)}; say which one")
        if query in self._scene_names:
            raise GroundingError(f"the {query} is part of the scene, not an object to use here; objects seen: {seen_text}")
        if query in self._object_names:
            raise GroundingError(f"the {query} is not visible (hidden or out of view); objects seen: {seen_text}")
        raise GroundingError(f"no object named '{name}' in view; objects seen: {seen_text}")

    def find(self, name: str) -> GroundedObject:
        """The visible object ``name`` means, with its mask and 3D points (see :meth:`resolve`)."""
        label = self.resolve(name)
        return self._object(label, self._ids_by_name[label])

    def objects(self) -> list[GroundedObject]:
        """Every visible object (scenery and robot excluded)."""
        return [self._object(n, self._ids_by_name[n]) for n in self.visible_objects]

    def scene_points(self, word: str = "table", stride: int = 1) -> np.ndarray:
        """``(N, 3)`` float64 optical-frame points of the scenery labels containing ``word``.

        ``stride`` > 1 keeps every stride-th row and column (a fast subset for large regions).

        Raises:
            GroundingError: no such label is in view.
        """
        ids = self._scene_ids(word)
        k = max(int(stride), 1)
        sub = self.segmentation[::k, ::k]
        rows, cols = np.nonzero(label_mask(sub, ids))
        return back_project_pixels(np.stack([cols * k, rows * k], axis=1), self.depth, self.intrinsics)

    def scene_outline_points(self, word: str = "table") -> np.ndarray:
        """``(N, 3)`` float64 optical-frame points of the leftmost and rightmost pixel of each image row
        of the scenery labels containing ``word``: their convex hull is the region's visible extent."""
        ids = self._scene_ids(word)
        mask = label_mask(self.segmentation, ids)
        rows = np.flatnonzero(mask.any(axis=1))
        first = np.argmax(mask[rows], axis=1)
        last = mask.shape[1] - 1 - np.argmax(mask[rows, ::-1], axis=1)
        pixels = np.stack([np.r_[first, last], np.r_[rows, rows]], axis=1)
        return back_project_pixels(pixels, self.depth, self.intrinsics)

    def _scene_ids(self, word: str) -> list[int]:
        ids = [i for n in self._scene_names if word in n.split() for i in self._ids_by_name[n]]
        if not any(self._counts[i] for i in ids):
            raise GroundingError(f"no {word} in view: pixels labelled '{word}' are needed; labels seen: "
                                 f"{', '.join(self._ids_by_name)}")
        return ids

    def _flat_indices(self, ids: list[int]) -> np.ndarray:
        """Raster-order flat indices of the pixels with any of ``ids`` (cached)."""
        key = tuple(ids)
        if key not in self._flat_cache:
            flat = np.concatenate([np.flatnonzero(self._flat == i) for i in ids]) if ids else np.zeros(0, np.int64)
            if len(ids) > 1:
                flat.sort()
            self._flat_cache[key] = flat
        return self._flat_cache[key]

    def _to_pixels(self, flat: np.ndarray) -> np.ndarray:
        """``(M, 2)`` int64 (column, row) of flat indices."""
        rows, cols = np.divmod(flat, self.segmentation.shape[1])
        return np.stack([cols, rows], axis=1)

    def _object(self, name: str, ids: list[int]) -> GroundedObject:
        if name not in self._cache:
            pixels = self._to_pixels(self._flat_indices(ids))
            points = back_project_pixels(pixels, self.depth, self.intrinsics)
            if points.shape[0] < 3:
                raise GroundingError(f"the {name} has no valid depth (holes in the depth image); cannot measure it")
            w, h = self.segmentation.shape[1], self.segmentation.shape[0]
            self._cache[name] = GroundedObject(name, tuple(ids), pixels, points, (w, h))
        return self._cache[name]
