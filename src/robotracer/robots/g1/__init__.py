"""Unitree G1 driver over unitree_sdk2py (same code for the real robot and the simulation bridge), arm IK, trace following."""
