"""Spatial instruction parsing: the supported sentences and the ones that must be refused."""

import pytest

from robotracer.language import InstructionError, Relation, SpatialInstruction, parse_instruction

L, R, F, B = Relation.LEFT_OF, Relation.RIGHT_OF, Relation.IN_FRONT_OF, Relation.BEHIND
ON, IN, NT, BW = Relation.ON, Relation.IN, Relation.NEXT_TO, Relation.BETWEEN

GOOD = [
    ("put the cup left of the plate", "cup", L, ("plate",), None),
    ("move the apple to the right of the bowl", "apple", R, ("bowl",), None),
    ("place the block in front of the cup", "block", F, ("cup",), None),
    ("put the cup behind the plate", "cup", B, ("plate",), None),
    ("put the apple on the plate", "apple", ON, ("plate",), None),
    ("put the apple into the bowl", "apple", IN, ("bowl",), None),
    ("put the apple in the bowl", "apple", IN, ("bowl",), None),
    ("put the cup next to the bowl", "cup", NT, ("bowl",), None),
    ("put the block between the cup and the plate", "block", BW, ("cup", "plate"), None),
    ("put the cup 10 cm left of the plate", "cup", L, ("plate",), 0.10),
    ("move the apple 15 centimeters to the right of the bowl", "apple", R, ("bowl",), 0.15),
    # tolerated variations: politeness, punctuation, case, adjectives, units, synonyms
    ("Please put the red cup to the left of the plate.", "red cup", L, ("plate",), None),
    ("Could you place the cup on the left-hand side of the plate, please?", "cup", L, ("plate",), None),
    ("PUT THE CUP 10cm LEFT OF THE PLATE!", "cup", L, ("plate",), 0.10),
    ("put the cup 0.2 m right of the plate", "cup", R, ("plate",), 0.20),
    ("put the cup 50 mm in front of the plate", "cup", F, ("plate",), 0.05),
    ("set the mug ten centimetres behind the bowl", "mug", B, ("bowl",), 0.10),
    ("put the block on top of the box", "block", ON, ("box",), None),
    ("drop the apple inside the bowl", "apple", IN, ("bowl",), None),
    ("stack the block onto the box", "block", ON, ("box",), None),
    ("put the cup beside the bowl", "cup", NT, ("bowl",), None),
    ("put the cup 5 cm next to the bowl", "cup", NT, ("bowl",), 0.05),
    ("put the block in between the red cup and the plate", "block", BW, ("red cup", "plate"), None),
    ("move the apple in back of the bowl", "apple", B, ("bowl",), None),
    ("  put   the cup\tleft of the plate  ", "cup", L, ("plate",), None),
]


@pytest.mark.parametrize("text, moved, relation, refs, distance", GOOD)
def test_supported_sentences(text, moved, relation, refs, distance):
    got = parse_instruction(text)
    assert got.moved_object == moved
    assert got.relation is relation
    assert got.reference_objects == refs
    if distance is None:
        assert got.distance_m is None
    else:
        assert got.distance_m == pytest.approx(distance)
    assert got.text == text


BAD = [
    ("", "empty"),
    ("   ", "empty"),
    ("put it left of the plate", "ambiguous"),
    ("put the cup left of it", "ambiguous"),
    ("put the cup left of the plate on the table", "several relations"),
    ("put the cup left of the plate behind the bowl", "several relations"),
    ("the cup left of the plate", "placing verb"),
    ("make coffee", "placing verb"),
    ("put the cup near the plate", "no spatial relation"),
    ("move the apple to the bowl", "no spatial relation"),
    ("put the cup over there", "no spatial relation"),
    ("put the cup 10 cm on the plate", "distance does not go"),
    ("put the apple 5 cm into the bowl", "distance does not go"),
    ("put the cup 10 left of the plate", "distance must come"),
    ("put the cup and the bowl left of the plate", "one object"),
    ("put the cup left of the plate and the bowl", "one object"),
    ("put the cup left of the plate or the bowl", "one object"),
    ("put the cup between the plate", "two objects"),
    ("put the cup between the plate and the plate", "two different"),
    ("put the cup left of the cup", "relative to itself"),
    ("don't put the cup left of the plate", "negation"),
    ("put left of the plate", "missing"),
    ("put the cup left of", "missing"),
]


@pytest.mark.parametrize("text, why", BAD)
def test_refused_sentences_say_why_and_how(text, why):
    with pytest.raises(InstructionError) as info:
        parse_instruction(text)
    msg = str(info.value)
    assert why in msg
    assert "put the cup 10 cm left of the plate" in msg  # an example of a supported sentence
    for rel in ("left of", "right of", "in front of", "behind", "on", "into", "next to", "between"):
        assert rel in msg


def test_instruction_is_a_frozen_value():
    got = parse_instruction("put the cup left of the plate")
    with pytest.raises(AttributeError):
        got.moved_object = "bowl"
    assert got.reference_object == "plate"
    assert got.describe() == "put the cup left of the plate"


def test_reference_count_must_match_relation():
    with pytest.raises(ValueError):
        SpatialInstruction("cup", Relation.BETWEEN, ("plate",))
    with pytest.raises(ValueError):
        SpatialInstruction("cup", Relation.LEFT_OF, ("plate", "bowl"))
    with pytest.raises(ValueError):
        SpatialInstruction("cup", Relation.LEFT_OF, ("plate",), distance_m=-0.1)


def test_language_core_imports_no_ros_or_torch():
    import subprocess
    import sys

    code = "import sys, robotracer.language, robotracer.perception; " \
           "bad = [m for m in ('rclpy', 'torch', 'mujoco') if m in sys.modules]; assert not bad, bad"
    subprocess.run([sys.executable, "-c", code], check=True)
