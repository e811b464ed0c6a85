"""The work-cell URDF's camera frame equals the simulator's default camera."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from robotracer.geometry.transforms import RigidTransform
from robotracer.sim.tabletop import TabletopConfig

URDF = Path(__file__).resolve().parents[2] / "urdf" / "ur5e_workcell.urdf"


def chain(root: ET.Element, child: str) -> RigidTransform:
    """``T_base_link_<child>`` by walking the fixed joints up to base_link."""
    joints = {j.find("child").get("link"): j for j in root.iter("joint")}
    T = RigidTransform.identity()
    while child != "base_link":
        j = joints[child]
        o = j.find("origin")
        local = RigidTransform.from_xyz_rpy([float(v) for v in o.get("xyz").split()], [float(v) for v in o.get("rpy").split()])
        T = local @ T
        child = j.find("parent").get("link")
    return T


def test_urdf_camera_matches_default_tabletop_camera():
    root = ET.parse(URDF).getroot()
    links = {link.get("name") for link in root.iter("link")}
    assert {"base_link", "table", "camera_link", "camera_color_optical_frame"} <= links
    got = chain(root, "camera_color_optical_frame")
    want = TabletopConfig().T_base_camera
    np.testing.assert_allclose(got.translation, want.translation, atol=1e-6)
    np.testing.assert_allclose(got.rotation, want.rotation, atol=1e-5)


def test_urdf_table_matches_default_table():
    cfg = TabletopConfig()
    T = chain(ET.parse(URDF).getroot(), "table")
    np.testing.assert_allclose(T.translation[:2], cfg.table_offset, atol=1e-9)
