"""The UR5e with a Robotiq 2F-85: kinematics and drivers (MuJoCo, real robot over ur_rtde)."""
