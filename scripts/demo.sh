#!/usr/bin/env bash
# Set up (if needed), then run the simulated UR5e demo: scripts/demo.sh [robotracer demo options]
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/_env.sh"
"$ROBOTRACER_ROOT/scripts/setup.sh"
cd "$ROBOTRACER_ROOT"
exec "$ROBOTRACER_VENV/bin/robotracer" demo "$@"
