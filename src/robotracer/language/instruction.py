"""Parse a spatial instruction ("put the cup 10 cm left of the plate") into its parts.

The grammar is deliberately small and strict: an optional polite opening, a placing
verb, the object to move, an optional distance, one relation phrase and its reference
object(s). Anything else raises :class:`InstructionError` instead of being guessed.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class Relation(str, enum.Enum):
    """Where the moved object goes relative to the reference object(s)."""

    LEFT_OF = "left_of"
    RIGHT_OF = "right_of"
    IN_FRONT_OF = "in_front_of"
    BEHIND = "behind"
    ON = "on"
    IN = "in"
    NEXT_TO = "next_to"
    BETWEEN = "between"

    @property
    def phrase(self) -> str:
        """The English phrase, e.g. ``"in front of"``."""
        return _PHRASES[self]

    @property
    def num_references(self) -> int:
        return 2 if self is Relation.BETWEEN else 1

    @property
    def takes_distance(self) -> bool:
        """Whether "N cm <relation> X" makes sense (not for on / in / between)."""
        return self not in (Relation.ON, Relation.IN, Relation.BETWEEN)


_PHRASES = {
    Relation.LEFT_OF: "left of",
    Relation.RIGHT_OF: "right of",
    Relation.IN_FRONT_OF: "in front of",
    Relation.BEHIND: "behind",
    Relation.ON: "on",
    Relation.IN: "in",
    Relation.NEXT_TO: "next to",
    Relation.BETWEEN: "between",
}

EXAMPLE = "put the cup 10 cm left of the plate"
SUPPORTED_RELATIONS = "left of, right of, in front of, behind, on (onto), in (into), next to, between X and Y"


class InstructionError(ValueError):
    """The instruction was not understood; the message says what and gives a supported example."""

    def __init__(self, text: str, problem: str) -> None:
        self.text = text
        self.problem = problem
        super().__init__(
            f"could not understand {text!r}: {problem}. Supported: '<verb> the <object> [N cm] <relation> "
            f"the <reference>', e.g. {EXAMPLE!r}; relations: {SUPPORTED_RELATIONS}"
        )


@dataclass(frozen=True)
class SpatialInstruction:
    """A parsed instruction.

    Attributes:
        moved_object: name of the object to move, adjectives kept (``"red cup"``).
        relation: where it goes.
        reference_objects: one name, or two for :attr:`Relation.BETWEEN`.
        distance_m: requested centre-to-centre distance from the reference in metres, if given.
        text: the original instruction.
    """

    moved_object: str
    relation: Relation
    reference_objects: tuple[str, ...]
    distance_m: float | None = None
    text: str = ""

    def __post_init__(self) -> None:
        if len(self.reference_objects) != self.relation.num_references:
            raise ValueError(
                f"{self.relation.phrase!r} needs {self.relation.num_references} reference object(s), "
                f"got {len(self.reference_objects)}"
            )
        if self.distance_m is not None and not self.distance_m > 0:
            raise ValueError(f"distance must be positive, got {self.distance_m} m")

    @property
    def reference_object(self) -> str:
        """The first (usually only) reference object."""
        return self.reference_objects[0]

    def describe(self) -> str:
        """Canonical English form, e.g. ``"put the cup 0.10 m left of the plate"``."""
        dist = f" {self.distance_m:.2f} m" if self.distance_m is not None else ""
        refs = " and the ".join(self.reference_objects)
        return f"put the {self.moved_object}{dist} {self.relation.phrase} the {refs}"


# --- vocabulary -------------------------------------------------------------------------

_VERBS = {"put", "place", "move", "set", "bring", "carry", "take", "transfer", "drop", "position", "relocate", "stack"}
_NEGATIONS = {"not", "don't", "dont", "never", "do't", "doesn't", "shouldn't", "without"}
_DETERMINERS = {"the", "a", "an", "this", "that", "my", "your", "our"}
_VAGUE_NAMES = {"it", "this", "that", "them", "they", "these", "those", "one", "something", "anything",
                "everything", "object", "thing", "stuff", "here", "there", "item"}
_CONNECTIVES = {"and", "or", "then", "also", "but", "while", "after", "before", "if"}
_UNITS = {
    "cm": 0.01, "centimeter": 0.01, "centimeters": 0.01, "centimetre": 0.01, "centimetres": 0.01,
    "mm": 0.001, "millimeter": 0.001, "millimeters": 0.001, "millimetre": 0.001, "millimetres": 0.001,
    "m": 1.0, "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0,
}
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "twenty-five": 25, "thirty": 30,
    "forty": 40, "fifty": 50,
}


def _side_phrases(side: str) -> list[tuple[str, ...]]:
    out = []
    for lead in ((), ("to",), ("to", "the"), ("on", "the"), ("at", "the"), ("on",)):
        for tail in ((), ("side",), ("hand", "side")):
            out.append((*lead, side, *tail, "of"))
    return out


_RELATION_PHRASES: list[tuple[tuple[str, ...], Relation]] = sorted(
    [(p, Relation.LEFT_OF) for p in _side_phrases("left")]
    + [(p, Relation.RIGHT_OF) for p in _side_phrases("right")]
    + [(p, Relation.IN_FRONT_OF) for p in (("in", "front", "of"), ("to", "the", "front", "of"), ("at", "the", "front", "of"))]
    + [(p, Relation.BEHIND) for p in (("behind",), ("in", "back", "of"), ("to", "the", "back", "of"),
                                       ("at", "the", "back", "of"), ("to", "behind"))]
    + [(p, Relation.ON) for p in (("on",), ("onto",), ("upon",), ("on", "top", "of"), ("on", "to"),
                                   ("onto", "the", "top", "of"), ("on", "the", "top", "of"))]
    + [(p, Relation.IN) for p in (("in",), ("into",), ("inside",), ("inside", "of"), ("in", "to"))]
    + [(p, Relation.NEXT_TO) for p in (("next", "to"), ("beside",), ("alongside",), ("right", "next", "to"),
                                        ("to", "the", "side", "of"), ("by", "the", "side", "of"))]
    + [(p, Relation.BETWEEN) for p in (("between",), ("in", "between"), ("in", "the", "middle", "of"))],
    key=lambda item: -len(item[0]),
)

_POLITE_START = re.compile(
    r"^(?:(?:hey|hi|ok|okay)\s+(?:robot\s+)?)?(?:robot\s+)?(?:(?:could|can|would|will)\s+you\s+)?"
    r"(?:please\s+|kindly\s+)?(?:now\s+)?(?:go\s+ahead\s+and\s+)?"
)
_POLITE_END = re.compile(r"(?:\s+(?:please|for\s+me|thanks|thank\s+you|now))+$")


# --- parsing ----------------------------------------------------------------------------


def parse_instruction(text: str) -> SpatialInstruction:
    """Parse ``text`` into a :class:`SpatialInstruction`.

    Examples of accepted sentences: "put the cup left of the plate", "move the apple 15
    centimeters to the right of the bowl", "Please put the red cup into the bowl.",
    "put the block between the cup and the plate".

    Raises:
        InstructionError: empty text, no placing verb, no or several relations, a pronoun
            or several objects where one is needed, a distance with on / in / between, or
            any other phrasing outside the grammar.
    """
    if not isinstance(text, str) or not text.strip():
        raise InstructionError(str(text or ""), "the instruction is empty")
    tokens = _tokenize(text)
    if not tokens:
        raise InstructionError(text, "the instruction has no words")
    negation = next((t for t in tokens if t in _NEGATIONS), None)
    if negation is not None:
        raise InstructionError(text, f"negations ({negation!r}) are not supported; say what to do instead")
    if tokens[0] not in _VERBS:
        raise InstructionError(
            text, f"it should start with a placing verb ({', '.join(sorted(_VERBS))}), not {tokens[0]!r}"
        )
    body = tokens[1:]
    matches = _find_relations(body)
    if not matches:
        raise InstructionError(text, "no spatial relation found")
    if len(matches) > 1:
        found = ", ".join(repr(" ".join(body[s:e])) for s, e, _ in matches)
        raise InstructionError(text, f"it is ambiguous: several relations ({found}); give exactly one")
    start, end, relation = matches[0]

    moved_tokens = body[:start]
    distance_m = None
    dist = _trailing_distance(moved_tokens)
    if dist is not None:
        distance_m, n = dist
        moved_tokens = moved_tokens[:-n]
    if any(_is_number(t) for t in moved_tokens + body[end:]):
        raise InstructionError(text, "a distance must come right before the relation, with a unit (cm, mm, m)")
    if distance_m is not None and not relation.takes_distance:
        raise InstructionError(text, f"a distance does not go with {relation.phrase!r}")

    moved = _object_name(text, moved_tokens, "the object to move")
    ref_tokens = body[end:]
    if relation is Relation.BETWEEN:
        if ref_tokens.count("and") != 1:
            raise InstructionError(text, "'between' needs two objects joined by 'and' (between the cup and the plate)")
        k = ref_tokens.index("and")
        refs = (
            _object_name(text, ref_tokens[:k], "the first object of 'between'"),
            _object_name(text, ref_tokens[k + 1 :], "the second object of 'between'"),
        )
        if refs[0] == refs[1]:
            raise InstructionError(text, f"'between' needs two different objects, got {refs[0]!r} twice")
    else:
        refs = (_object_name(text, ref_tokens, f"the object after {relation.phrase!r}"),)
    if moved in refs:
        raise InstructionError(text, f"the {moved} cannot be placed relative to itself")
    return SpatialInstruction(moved, relation, refs, distance_m, text)


def _tokenize(text: str) -> list[str]:
    s = text.strip().lower().replace("\u2019", "'").replace("\u2018", "'")
    s = re.sub(r"(\d)\s*([a-z])", r"\1 \2", s)  # "10cm" -> "10 cm"
    s = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", s)  # full stops, keep decimal points
    s = re.sub(r"[^a-z0-9.'\- ]+", " ", s)  # other punctuation
    s = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", s)  # "left-hand" -> "left hand" ("twenty-five" below)
    s = re.sub(r"\s+", " ", s).strip()
    s = s.replace("twenty five", "twenty-five")
    s = _POLITE_START.sub("", s)
    s = _POLITE_END.sub("", s)
    return [t for t in s.split(" ") if t and t != "please"]


def _find_relations(tokens: list[str]) -> list[tuple[int, int, Relation]]:
    """Non-overlapping relation phrases, longest first at each position: ``[(start, end, relation)]``."""
    found, i = [], 0
    while i < len(tokens):
        for phrase, relation in _RELATION_PHRASES:
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                found.append((i, i + len(phrase), relation))
                i += len(phrase)
                break
        else:
            i += 1
    return found


def _is_number(token: str) -> bool:
    return bool(re.fullmatch(r"\d+(?:\.\d+)?|\.\d+", token)) or token in _NUMBER_WORDS


def _trailing_distance(tokens: list[str]) -> tuple[float, int] | None:
    """``(metres, tokens used)`` for "N unit [away]" at the end of ``tokens``."""
    tail = tokens[:-1] if tokens and tokens[-1] == "away" else tokens
    used = len(tokens) - len(tail)
    if len(tail) >= 2 and tail[-1] in _UNITS and _is_number(tail[-2]):
        value = float(_NUMBER_WORDS.get(tail[-2], 0) or tail[-2])
        return value * _UNITS[tail[-1]], used + 2
    return None


def _object_name(text: str, tokens: list[str], role: str) -> str:
    words = list(tokens)
    while words and words[0] in _DETERMINERS and len(words) > 1:
        words.pop(0)
    if not words:
        raise InstructionError(text, f"{role} is missing")
    name = " ".join(words)
    if name in _VAGUE_NAMES or words[0] in _VAGUE_NAMES - {"one"}:
        raise InstructionError(text, f"{role} is ambiguous ({name!r}): name the object, e.g. 'the cup'")
    bad = next((w for w in words if w in _CONNECTIVES or w in _VERBS or w in _UNITS), None)
    if bad is not None:
        raise InstructionError(text, f"{role} ({name!r}) should be one object; found {bad!r} in it")
    if not all(re.fullmatch(r"[a-z][a-z0-9_'\-]*", w) for w in words):
        raise InstructionError(text, f"{role} ({name!r}) is not an object name")
    return name
