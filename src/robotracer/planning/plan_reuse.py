"""A controller's last checked plan, reused by the execution that follows its check.

The task server asks the controller to plan a trace (the check before motion), then to execute
the same trace: the second plan is skipped when the trace is the same and the robot is still
where that plan starts.
"""

from __future__ import annotations

from typing import Callable, Generic, TypeVar

import numpy as np

from robotracer.trace.types import Trace3D

PlanT = TypeVar("PlanT")


class PlanReuse(Generic[PlanT]):
    """Keeps the last plan; ``start_error(plan, q_now)`` says how far (rad) the robot is from its start."""

    def __init__(self, tolerance_rad: float, start_error: Callable[[PlanT, np.ndarray], float]) -> None:
        self.tolerance_rad = float(tolerance_rad)
        self._start_error = start_error
        self._last: tuple[tuple, PlanT] | None = None

    def plan(self, trace: Trace3D, q_now: np.ndarray, make: Callable[[], PlanT]) -> PlanT:
        """The last plan if it was made for this trace and the robot is within tolerance of its start,
        else ``make()`` (kept for next time)."""
        key = (trace.frame_id, trace.positions.tobytes())
        last = self._last
        if last is not None and last[0] == key and self._start_error(last[1], q_now) < self.tolerance_rad:
            return last[1]
        plan = make()
        self._last = (key, plan)
        return plan
