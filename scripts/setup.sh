#!/usr/bin/env bash
# Set up robotracer on Debian 12 with Python 3.11 (no ROS install needed: ROS 2 Kilted
# comes from PyPI wheels). Idempotent; a second run only checks and returns.
#
#   scripts/setup.sh            # system packages, .venv, robotracer (editable) + all extras
#
# Environment:
#   ROBOTRACER_VENV     the virtual environment to create/use (default: <repo>/.venv)
#   ROBOTRACER_PYTHON   the interpreter that creates it (default: python3.11)
#   ROBOTRACER_EXTRAS   extras to install (default: model,bench,g1,ur,test,build)
#   ROBOTRACER_TORCH_INDEX  extra index for the CPU torch wheel, e.g.
#                       https://download.pytorch.org/whl/cpu (default: none)
#   ROBOTRACER_SKIP_APT=1   do not install Debian packages
set -euo pipefail
source "$(dirname -- "${BASH_SOURCE[0]}")/_env.sh"
cd "$ROBOTRACER_ROOT"

PYTHON="${ROBOTRACER_PYTHON:-python3.11}"
EXTRAS="${ROBOTRACER_EXTRAS:-model,bench,g1,ur,test,build}"
TORCH_VERSION="2.13.0"
log() { printf '[setup] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# 1. Debian packages: compilers and CMake for the ROS interfaces, Python headers and
#    venv, Mesa EGL for headless MuJoCo rendering, libusb/libgomp for open3d.
APT_PACKAGES=(
  python3.11 python3.11-venv python3.11-dev
  cmake g++ make git ca-certificates
  libegl1 libegl-mesa0 libgl1-mesa-dri libgles2 libglib2.0-0
  libusb-1.0-0 libgomp1
)
if [ "${ROBOTRACER_SKIP_APT:-0}" != 1 ] && command -v dpkg-query >/dev/null; then
  missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# 2. The virtual environment.
if [ ! -x "$ROBOTRACER_VENV/bin/python" ]; then
  command -v "$PYTHON" >/dev/null || { echo "setup: $PYTHON not found; install Python 3.11 (Debian 12: apt-get install python3.11 python3.11-venv) or set ROBOTRACER_PYTHON" >&2; exit 1; }
  log "creating $ROBOTRACER_VENV with $PYTHON"
  "$PYTHON" -m venv "$ROBOTRACER_VENV"
fi
VPY="$ROBOTRACER_VENV/bin/python"

# 3. Skip the rest when nothing that shapes the install changed since the last run.
stamp_file="$ROBOTRACER_VENV/.robotracer-setup-stamp"
setup_inputs() {
  echo "$EXTRAS torch==$TORCH_VERSION"
  "$VPY" -VV
  cat pyproject.toml setup.py CMakeLists.txt package.xml
  find action msg srv -type f 2>/dev/null | LC_ALL=C sort | xargs -r cat
}
stamp="$(setup_inputs | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] \
   && "$VPY" -c "import robotracer.msg, robotracer.srv, robotracer.action" 2>/dev/null; then
  log "up to date ($ROBOTRACER_VENV)"
  exit 0
fi

# 4. Python packages. torch first, pinned: anything that depends on torch must find it
#    already there (a looser requirement would download a several-GB CUDA build).
pip_install() { "$VPY" -m pip install --disable-pip-version-check -q "$@"; }
if [ "$("$VPY" -c 'import importlib.metadata as m; print(m.version("torch").split("+")[0])' 2>/dev/null)" != "$TORCH_VERSION" ]; then
  log "installing torch==$TORCH_VERSION"
  pip_install ${ROBOTRACER_TORCH_INDEX:+--extra-index-url "$ROBOTRACER_TORCH_INDEX"} "torch==$TORCH_VERSION"
fi
# The build requirements (ROS build wheels) go into the venv, so the development
# install builds without isolation and reuses its CMake build directory.
mapfile -t build_requires < <("$VPY" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))')
log "installing build requirements"
pip_install "${build_requires[@]}"
log "installing robotracer (editable) with extras [$EXTRAS]"
pip_install --no-build-isolation -e ".[$EXTRAS]" "torch==$TORCH_VERSION"
"$VPY" -c "import robotracer.msg, robotracer.srv, robotracer.action"
echo "$stamp" > "$stamp_file"
log "done: activate with 'source $ROBOTRACER_VENV/bin/activate'"
