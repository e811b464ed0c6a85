"""Spatial traces: types, parsing of model answers, lifting to 3D, geometry and metrics."""

from robotracer.trace.types import CoordinateConvention, Trace, Trace3D
from robotracer.trace.parsing import TraceParseError, parse_trace

__all__ = ["CoordinateConvention", "Trace", "Trace3D", "TraceParseError", "parse_trace"]
