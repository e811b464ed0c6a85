"""Spatial instructions in plain English: ``parse_instruction("put the cup left of the plate")``."""

from robotracer.language.instruction import InstructionError, Relation, SpatialInstruction, parse_instruction

__all__ = ["InstructionError", "Relation", "SpatialInstruction", "parse_instruction"]
