# Sourced by the scripts in this folder: paths and the process environment every
# robotracer entry point uses (headless MuJoCo, loopback-only DDS, the Fast DDS profile,
# the ament index of the PyPI ROS wheels).
ROBOTRACER_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
ROBOTRACER_VENV="${ROBOTRACER_VENV:-$ROBOTRACER_ROOT/.venv}"
export MUJOCO_GL="${MUJOCO_GL:-egl}"
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export RMW_IMPLEMENTATION="${RMW_IMPLEMENTATION:-rmw_fastrtps_cpp}"
export FASTDDS_DEFAULT_PROFILES_FILE="${FASTDDS_DEFAULT_PROFILES_FILE:-$ROBOTRACER_ROOT/config/fastdds_loopback.xml}"
case ":${AMENT_PREFIX_PATH:-}:" in
  *":$ROBOTRACER_VENV:"*) ;;
  *) export AMENT_PREFIX_PATH="$ROBOTRACER_VENV${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}" ;;
esac
