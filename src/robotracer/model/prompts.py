"""RoboTracer's instruction prompts, exactly as the official TraceSpatial-Bench evaluation sends them."""

from __future__ import annotations

PROMPT_3D = (
    'Point the 3D object-centric visual trace for the task "{instruction}". '
    "Your answer should be formatted as a list of tuples, i.e., [(x1, y1, d1), (x2, y2, d2), ...], "
    "where each tuple contains the x and y coordinates of the point, and d is the depth of the point."
)
PROMPT_2D = (
    'Point the 2D object-centric visual trace for the task "{instruction}". '
    "Your answer should be formatted as a list of tuples, i.e., [(x1, y1), (x2, y2), ...], "
    "where each tuple contains the x and y coordinates of the point."
)
PROMPTS = {"3d": PROMPT_3D, "2d": PROMPT_2D}


def trace_prompt(instruction: str, kind: str = "3d") -> str:
    """The user prompt asking for a ``kind`` ("3d" or "2d") trace for ``instruction``."""
    key = kind.lower()
    if key not in PROMPTS:
        raise ValueError(f"unknown prompt kind {kind!r}; valid: {', '.join(PROMPTS)}")
    instruction = instruction.strip()
    if not instruction:
        raise ValueError("the instruction is empty; say what to move where, e.g. 'put the cup left of the plate'")
    return PROMPTS[key].format(instruction=instruction)
