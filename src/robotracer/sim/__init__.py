"""Simulation: MuJoCo scenes composed from untouched Menagerie models, rendering, sim state."""
