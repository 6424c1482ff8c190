#!/usr/bin/env bash
# Installs everything Vigie and its devstack need on a fresh Debian/Ubuntu machine, idempotently:
# the Debian packages of the real local servers, then a virtualenv with the project in it.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian package -> a binary it provides. Prometheus and Alertmanager are the real servers of the
# devstack; redis-server is only started when no Redis answers on the configured URL.
declare -A PACKAGES=(
  [prometheus]=promtool
  [prometheus-alertmanager]=prometheus-alertmanager
  [redis-server]=redis-server
)
missing=()
for pkg in "${!PACKAGES[@]}"; do
  command -v "${PACKAGES[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  cmd=(apt-get install -y -q --no-install-recommends "${missing[@]}")
  if [[ $(id -u) -eq 0 ]]; then sudo_=(); elif sudo -n true 2>/dev/null; then sudo_=(sudo); else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run: sudo apt-get update && sudo ${cmd[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]} with apt-get"
  "${sudo_[@]}" apt-get update -q >/dev/null
  # The packages' init scripts would start system-wide daemons; the devstack runs its own.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 "${sudo_[@]}" "${cmd[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup: Python >= 3.11 is required ($("$PYTHON" --version 2>&1) found); set PYTHON=..." >&2
  exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.vigie-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  echo "setup: installing Python dependencies into .venv"
  .venv/bin/pip install -q --upgrade pip >/dev/null
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
fi
