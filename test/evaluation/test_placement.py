import numpy as np
import pytest

from robotracer.evaluation.placement import camera_directions, check_placement
from robotracer.geometry.transforms import RigidTransform
from robotracer.language.instruction import Relation, parse_instruction

# camera across the table looking back at the robot (-x): image-right is +y
T_BASE_CAMERA = RigidTransform.from_xyz_rpy([1.3, 0.0, 0.55], [-2.1451, 0.0, 1.5708])
UP = np.array([1.0, 0.0, 0.0, 0.0])


def poses(**kw):
    return {k: (np.array(v, dtype=float), UP.copy()) for k, v in kw.items()}


def test_camera_left_is_minus_y_for_the_default_camera():
    d = camera_directions(T_BASE_CAMERA)
    np.testing.assert_allclose(d[Relation.LEFT_OF], [0, -1, 0], atol=1e-3)
    np.testing.assert_allclose(d[Relation.BEHIND], [-1, 0, 0], atol=1e-3)


def test_cup_left_of_plate_succeeds():
    before = poses(cup=[0.47, 0.24, 0], plate=[0.5, 0.02, 0], bowl=[0.68, 0.3, 0])
    after = poses(cup=[0.50, -0.13, 0], plate=[0.5, 0.02, 0], bowl=[0.68, 0.3, 0])
    r = check_placement(parse_instruction("put the cup left of the plate"), before, after, T_BASE_CAMERA)
    assert r.success, r.reason


@pytest.mark.parametrize(
    "cup_after, failed",
    [
        ([0.50, 0.17, 0], "direction"),  # right of the plate
        ([0.50, -0.40, 0], "distance"),  # 42 cm away
        ([0.50, -0.13, 0.2], "on_table"),  # in the air
        ([0.47, 0.24, 0], "moved"),  # never moved
    ],
)
def test_wrong_outcomes_fail_the_right_check(cup_after, failed):
    before = poses(cup=[0.47, 0.24, 0], plate=[0.5, 0.02, 0])
    after = poses(cup=cup_after, plate=[0.5, 0.02, 0])
    r = check_placement(parse_instruction("put the cup left of the plate"), before, after, T_BASE_CAMERA)
    assert not r.success and not r.checks[failed]


def test_knocked_over_neighbour_and_tilted_cup_fail():
    before = poses(cup=[0.47, 0.24, 0], plate=[0.5, 0.02, 0], bowl=[0.68, 0.3, 0])
    after = poses(cup=[0.50, -0.13, 0], plate=[0.5, 0.02, 0], bowl=[0.60, 0.3, 0])
    tipped = np.array([np.cos(np.pi / 4), np.sin(np.pi / 4), 0, 0])  # 90 deg about x
    after["cup"] = (after["cup"][0], tipped)
    r = check_placement(parse_instruction("put the cup left of the plate"), before, after, T_BASE_CAMERA)
    assert not r.checks["upright"] and not r.checks["others_undisturbed"]
    assert "bowl" in r.reason


def test_named_distance_and_on_relation():
    before = poses(cup=[0.47, 0.24, 0], plate=[0.5, 0.02, 0])
    ok = check_placement(parse_instruction("put the cup 10 cm left of the plate"), before,
                         poses(cup=[0.5, -0.08, 0], plate=[0.5, 0.02, 0]), T_BASE_CAMERA)
    assert ok.checks["distance"]
    on = check_placement(parse_instruction("put the cup on the plate"), before,
                         poses(cup=[0.51, 0.03, 0.015], plate=[0.5, 0.02, 0]), T_BASE_CAMERA)
    assert on.success, on.reason
