"""Stream a :class:`MotionPlan` into any :class:`~robotracer.robots.base.ArmRobot`.

The driver paces the loop: the MuJoCo driver advances physics by one control period per
command; the ur_rtde driver blocks in ``waitPeriod``. So this loop never sleeps itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from robotracer.planning.pick_place import MotionPlan
from robotracer.robots.base import ArmObservation, ArmRobot


@dataclass(frozen=True)
class ExecutionResult:
    """How a plan run ended: ``completed`` or cancelled, the last ``phase`` and ``waypoint_index``, the final state."""

    completed: bool
    phase: str
    waypoint_index: int
    elapsed: float
    observation: ArmObservation


def follow_plan(
    robot: ArmRobot,
    plan: MotionPlan,
    settle: float = 0.5,
    on_progress: Callable[[float, str, int], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ExecutionResult:
    """Send ``plan.sample(t)`` every control period until the plan ends (plus ``settle`` seconds holding the end).

    ``on_progress(t, phase, waypoint_index)`` is called whenever the phase or waypoint changes;
    ``should_cancel()`` is polled each period: when it answers True the robot stops where it is.
    """
    period = robot.config.control_period
    t, last = 0.0, ("", -1)
    phase, wp = "approach", 0
    while t <= plan.duration + settle:
        if should_cancel is not None and should_cancel():
            robot.stop()
            return ExecutionResult(False, phase, wp, t, robot.get_observation())
        q, g, phase, wp = plan.sample(t)
        robot.send_action(q, g)
        if on_progress is not None and (phase, wp) != last:
            on_progress(t, phase, wp)
            last = (phase, wp)
        t += period
    return ExecutionResult(True, phase, wp, t, robot.get_observation())
