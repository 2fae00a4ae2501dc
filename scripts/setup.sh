#!/usr/bin/env bash
# Set up everything hallq needs on Debian/Ubuntu: system packages (voice, CJK font,
# OpenGL for the Kivy screens, sox, Chromium for the console's browser tests, PostgreSQL
# for the central tests, bench and demo: its server binaries, not a running service), then a
# virtual environment with the project.
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(espeak-ng fonts-wqy-microhei libgl1 libegl1 libgles2 libgl1-mesa-dri
                 libmtdev1 xvfb xauth sox chromium postgresql)

missing_packages() {
  local pkg missing=()
  for pkg in "${SYSTEM_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || missing+=("$pkg")
  done
  echo "${missing[@]:-}"
}

if command -v dpkg-query >/dev/null 2>&1; then
  missing=$(missing_packages)
  if [ -n "$missing" ]; then
    echo "hallq setup: installing system packages: $missing"
    if [ "$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n";
    else
      echo "hallq setup: cannot install system packages without root. Run:" >&2
      echo "  sudo apt-get install -y $missing" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq || { echo "hallq setup: apt-get update failed (network?)" >&2; exit 1; }
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq $missing >/dev/null \
      || { echo "hallq setup: could not install: $missing" >&2; exit 1; }
  fi
else
  echo "hallq setup: not a Debian/Ubuntu system; install by hand: espeak-ng, a CJK font" \
       "(e.g. WenQuanYi Micro Hei or Noto Sans CJK), OpenGL/EGL libraries, sox, chromium, postgresql (server binaries)." >&2
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "hallq setup: Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1))." >&2
  echo "  Set PYTHON=/path/to/python3.11 and run again." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv || { echo "hallq setup: python venv failed; on Debian: sudo apt-get install python3-venv" >&2; exit 1; }
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# The words of every screen: compile the gettext catalogs (.po -> .mo).
.venv/bin/pybabel -q compile -d caller/locale -D hallq \
  || { echo "hallq setup: could not compile the catalogs in caller/locale" >&2; exit 1; }
echo "hallq setup: ready (.venv)"
