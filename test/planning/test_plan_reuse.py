import numpy as np

from robotracer.planning.plan_reuse import PlanReuse
from robotracer.trace.types import Trace3D


def _trace(z: float) -> Trace3D:
    return Trace3D(np.array([[0.4, 0.2, z], [0.4, -0.2, z]]), frame_id="base_link")


def test_the_checked_plan_is_reused_only_for_the_same_trace_from_its_start():
    made = []

    def make(tag):
        made.append(tag)
        return {"tag": tag, "start": np.zeros(6)}

    reuse = PlanReuse(0.01, lambda plan, q: float(np.max(np.abs(plan["start"] - q))))
    first = reuse.plan(_trace(0.1), np.zeros(6), lambda: make("a"))
    assert reuse.plan(_trace(0.1), np.full(6, 0.005), lambda: make("b")) is first  # same trace, arm still there
    assert reuse.plan(_trace(0.1), np.full(6, 0.05), lambda: make("c"))["tag"] == "c"  # the arm moved
    assert reuse.plan(_trace(0.2), np.zeros(6), lambda: make("d"))["tag"] == "d"  # another trace
    assert made == ["a", "c", "d"]
