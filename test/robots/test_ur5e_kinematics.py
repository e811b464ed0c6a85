"""UR5e IK against MuJoCo FK on the Menagerie model."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from robotracer.geometry.transforms import RigidTransform
from robotracer.robots.ur5e.kinematics import UnreachableError, UR5eKinematics


@pytest.fixture(scope="module")
def kin():
    return UR5eKinematics()


def test_ik_accuracy_over_random_reachable_poses(kin):
    rng = np.random.default_rng(0)
    worst_pos, worst_rot = 0.0, 0.0
    for _ in range(200):
        q = rng.uniform(-np.pi, np.pi, 6)
        q[2] = rng.uniform(-2.8, 2.8)
        if np.linalg.norm(kin.fk_flange(q).translation - [0, 0, 0.1625]) > 0.9:
            continue  # keep off the fully stretched boundary, where the analytic model's 1 mm matters
        target = kin.fk(q)
        q_ik = kin.ik(target, q + rng.normal(0.0, 0.05, 6))
        got = kin.fk(q_ik)
        worst_pos = max(worst_pos, float(np.linalg.norm(got.translation - target.translation)))
        worst_rot = max(worst_rot, float(np.degrees(Rotation.from_matrix(got.rotation.T @ target.rotation).magnitude())))
        assert kin.within_limits(q_ik)
    assert worst_pos < 1e-3 and worst_rot < 0.5


def test_ik_picks_the_solution_nearest_the_seed(kin):
    q = np.array([2.6, -2.0, 1.8, -1.3, -1.57, 0.4])
    assert np.allclose(kin.ik(kin.fk(q), q + 0.05), q, atol=1e-3)
    q_wrapped = q.copy()
    q_wrapped[5] -= 2 * np.pi  # same pose, other turn of the wrist: a seed there keeps it there
    assert np.allclose(kin.ik(kin.fk(q), q_wrapped), q_wrapped, atol=1e-3)


def test_unreachable_target_names_itself_and_the_distance(kin):
    down = RigidTransform.from_xyz_rpy([0.95, 0.10, 0.20], [np.pi, 0, 0])
    with pytest.raises(UnreachableError) as err:
        kin.ik(down, np.zeros(6))
    assert "(0.95, 0.10, 0.20)" in err.value.reason and "beyond the UR5e's reach" in err.value.reason
    far = RigidTransform.from_xyz_rpy([1.5, 0.0, 0.5], [np.pi, 0, 0])
    with pytest.raises(UnreachableError, match=r"0\.\d\d m beyond"):
        kin.ik(far, np.zeros(6))


def test_tcp_is_between_the_fingertips_along_the_flange_axis(kin):
    offset = kin.T_flange_tcp.translation
    assert abs(offset[0]) < 1e-6 and abs(offset[1]) < 1e-6 and 0.14 < offset[2] < 0.17
