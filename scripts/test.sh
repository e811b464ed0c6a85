#!/usr/bin/env bash
# Set up (if needed), then run the test suite: scripts/test.sh [pytest options]
# Exits with pytest's exit code.
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/_env.sh"
"$ROBOTRACER_ROOT/scripts/setup.sh"
cd "$ROBOTRACER_ROOT"
exec "$ROBOTRACER_VENV/bin/python" -m pytest "$@"
