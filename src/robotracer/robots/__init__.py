"""Robots behind one contract per kind (``robots.base``): simulated and real drivers share it."""
