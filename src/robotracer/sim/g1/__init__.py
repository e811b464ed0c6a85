"""Simulated Unitree G1 at a table: scene, physics with the robot's command layers, head camera, SDK bridge."""
