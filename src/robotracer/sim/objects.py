"""A catalogue of everyday tabletop objects and a table, built with MjSpec.

Robot-agnostic: any scene (the UR5e tabletop, the G1 humanoid scene) composes them
with :func:`add_table` and :func:`add_object`. Each object is one free body named
after the object; its geoms are named ``<name>/<part>``. Positions are the centre
of the object's *bottom* on the supporting surface, in the parent body's frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import mujoco
import numpy as np

TABLE_NAME = "table"


@dataclass(frozen=True)
class ObjectKind:
    """What an object kind is like.

    Attributes:
        kind: catalogue key (``cup``, ``plate``...).
        height: metres from the bottom to the top centre when upright.
        radius: metres, radius of the horizontal bounding circle (for layouts).
        mass: kg.
        graspable: whether the 2F-85 (85 mm stroke) can grasp it top-down.
        rgba: ``(4,)`` colour.
    """

    kind: str
    height: float
    radius: float
    mass: float
    graspable: bool
    rgba: tuple[float, float, float, float]
    build: Callable[[mujoco.MjsBody, "ObjectKind", str], None]


_FRICTION = (1.0, 0.005, 0.0001)


def _geom(body: mujoco.MjsBody, name: str, kind: ObjectKind, gtype, size, pos, mass, quat=(1, 0, 0, 0), **kw):
    return body.add_geom(
        name=name,
        type=gtype,
        size=list(size) + [0.0] * (3 - len(size)),
        pos=list(pos),
        quat=list(quat),
        mass=mass,
        rgba=list(kind.rgba),
        friction=list(kw.pop("friction", _FRICTION)),
        condim=kw.pop("condim", 4),
        **kw,
    )


def _ring(body, name, kind, r_bottom, r_top, z0, z1, thickness, segments, mass):
    """A ring of thin boxes from radius ``r_bottom`` at ``z0`` to ``r_top`` at ``z1`` (cup or bowl walls)."""
    height = math.hypot(z1 - z0, r_top - r_bottom)
    tilt = math.atan2(r_top - r_bottom, z1 - z0)  # outward lean of the wall
    r_mid = 0.5 * (r_bottom + r_top)
    half_w = max(r_bottom, r_top) * math.tan(math.pi / segments) + 0.5 * thickness
    for i in range(segments):
        a = 2.0 * math.pi * i / segments
        # wall frame: x radial, y tangential, z along the wall; rotate by yaw a then lean about y.
        qz = np.array([math.cos(a / 2), 0.0, 0.0, math.sin(a / 2)])
        qy = np.array([math.cos(tilt / 2), 0.0, math.sin(tilt / 2), 0.0])
        q = np.zeros(4)
        mujoco.mju_mulQuat(q, qz, qy)
        _geom(
            body, f"{name}/wall{i}", kind, mujoco.mjtGeom.mjGEOM_BOX,
            (0.5 * thickness, half_w, 0.5 * height),
            (r_mid * math.cos(a), r_mid * math.sin(a), 0.5 * (z0 + z1)),
            mass / segments, quat=q,
        )


def _build_cup(body, kind, name):
    base_h = 0.008
    _geom(body, f"{name}/bottom", kind, mujoco.mjtGeom.mjGEOM_CYLINDER, (kind.radius, 0.5 * base_h), (0, 0, 0.5 * base_h), 0.3 * kind.mass)
    _ring(body, name, kind, kind.radius - 0.003, kind.radius - 0.003, base_h, kind.height, 0.006, 16, 0.7 * kind.mass)


def _build_bowl(body, kind, name):
    base_h = 0.01
    _geom(body, f"{name}/bottom", kind, mujoco.mjtGeom.mjGEOM_CYLINDER, (0.045, 0.5 * base_h), (0, 0, 0.5 * base_h), 0.3 * kind.mass)
    _ring(body, name, kind, 0.045, kind.radius - 0.004, base_h, kind.height, 0.008, 16, 0.7 * kind.mass)


def _build_plate(body, kind, name):
    _geom(body, f"{name}/disc", kind, mujoco.mjtGeom.mjGEOM_CYLINDER, (kind.radius, 0.5 * kind.height), (0, 0, 0.5 * kind.height), kind.mass)


def _build_apple(body, kind, name):
    r = 0.5 * kind.height
    _geom(body, f"{name}/body", kind, mujoco.mjtGeom.mjGEOM_SPHERE, (r,), (0, 0, r), kind.mass,
          friction=(1.0, 0.01, 0.002), condim=6)


def _build_block(body, kind, name):
    h = 0.5 * kind.height
    _geom(body, f"{name}/body", kind, mujoco.mjtGeom.mjGEOM_BOX, (h, h, h), (0, 0, h), kind.mass)


def _build_can(body, kind, name):
    _geom(body, f"{name}/body", kind, mujoco.mjtGeom.mjGEOM_CYLINDER, (kind.radius, 0.5 * kind.height), (0, 0, 0.5 * kind.height), kind.mass)


CATALOGUE: dict[str, ObjectKind] = {
    k.kind: k
    for k in (
        ObjectKind("cup", 0.09, 0.035, 0.12, True, (0.85, 0.15, 0.15, 1.0), _build_cup),
        ObjectKind("plate", 0.015, 0.10, 0.30, False, (0.95, 0.95, 0.90, 1.0), _build_plate),
        ObjectKind("bowl", 0.06, 0.08, 0.25, False, (0.20, 0.40, 0.85, 1.0), _build_bowl),
        ObjectKind("apple", 0.07, 0.035, 0.15, True, (0.30, 0.75, 0.20, 1.0), _build_apple),
        ObjectKind("block", 0.05, 0.036, 0.10, True, (0.95, 0.75, 0.10, 1.0), _build_block),
        ObjectKind("can", 0.12, 0.033, 0.30, True, (0.60, 0.60, 0.65, 1.0), _build_can),
    )
}


def object_kind(kind: str) -> ObjectKind:
    """The catalogue entry for ``kind``; the error lists the kinds that exist."""
    try:
        return CATALOGUE[kind]
    except KeyError:
        raise KeyError(f"unknown object kind '{kind}'; known kinds: {', '.join(sorted(CATALOGUE))}") from None


def add_object(
    spec: mujoco.MjSpec,
    kind: str,
    name: str,
    pos,
    yaw: float = 0.0,
    parent: mujoco.MjsBody | None = None,
) -> mujoco.MjsBody:
    """Add a free-floating object standing upright.

    Args:
        spec: the scene being composed.
        kind: a key of :data:`CATALOGUE`.
        name: unique body name (geoms are ``<name>/<part>``, the free joint ``<name>/free``).
        pos: ``(3,)`` bottom centre, metres, in the parent's frame (the world by default).
        yaw: rotation about the vertical, radians.
        parent: body to add it under (default: the world body).
    """
    k = object_kind(kind)
    parent = spec.worldbody if parent is None else parent
    body = parent.add_body(name=name, pos=list(map(float, pos)), quat=[math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)])
    body.add_freejoint(name=f"{name}/free")
    k.build(body, k, name)
    return body


@dataclass(frozen=True)
class TableSpec:
    """A four-legged table: ``center`` ``(2,)`` xy of the top's centre, ``size`` ``(2,)`` top length x width, metres."""

    center: tuple[float, float] = (0.0, 0.0)
    size: tuple[float, float] = (1.2, 1.4)
    height: float = 0.75  # floor to top surface
    thickness: float = 0.04
    rgba: tuple[float, float, float, float] = (0.55, 0.42, 0.30, 1.0)


def add_table(spec: mujoco.MjSpec, table: TableSpec = TableSpec(), name: str = TABLE_NAME) -> mujoco.MjsBody:
    """Add a static table standing on the floor (z = 0) of ``spec``'s world; its top is at ``table.height``.

    The top's geom is ``<name>/top``; legs ``<name>/leg<i>``. Returns the table body.
    """
    body = spec.worldbody.add_body(name=name, pos=[table.center[0], table.center[1], 0.0])
    hx, hy = 0.5 * table.size[0], 0.5 * table.size[1]
    body.add_geom(
        name=f"{name}/top", type=mujoco.mjtGeom.mjGEOM_BOX,
        size=[hx, hy, 0.5 * table.thickness], pos=[0, 0, table.height - 0.5 * table.thickness],
        rgba=list(table.rgba), friction=[0.8, 0.005, 0.0001],
    )
    leg_h = table.height - table.thickness
    for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        body.add_geom(
            name=f"{name}/leg{i}", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.025, 0.025, 0.5 * leg_h],
            pos=[sx * (hx - 0.05), sy * (hy - 0.05), 0.5 * leg_h], rgba=list(table.rgba),
        )
    return body
