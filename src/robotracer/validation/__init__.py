"""Pre-execution checks of a lifted trace against the live depth frame (pure functions, no ROS).

Trace convention agreed with the tracers: the trace is the path of the moved object's
top-centre point; the first point is where the object is now, the last where it is placed,
resting on a surface.
"""

from robotracer.validation.checks import (
    CheckResult,
    ValidationParams,
    ValidationReport,
    WorkspaceBounds,
    validate_trace,
)
from robotracer.validation.occupancy import DepthOccupancy, depth_to_points

__all__ = [
    "CheckResult",
    "DepthOccupancy",
    "ValidationParams",
    "ValidationReport",
    "WorkspaceBounds",
    "depth_to_points",
    "validate_trace",
]
