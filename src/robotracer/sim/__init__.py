"""Simulation: MuJoCo scenes composed from untouched Menagerie models, rendering, sim state.

Importing this package selects headless EGL rendering (``MUJOCO_GL=egl``) unless the
variable is already set; MuJoCo reads it when it is first imported.
"""

import os

os.environ.setdefault("MUJOCO_GL", "egl")
