"""Motion planning: turning an object-centric 3D trace into a timed UR5e pick-carry-place motion."""
