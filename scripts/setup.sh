#!/usr/bin/env bash
# Brings a fresh Debian 12 machine (root, Node.js 20) from clone to a built
# project: installs the missing system packages (idempotently, with apt),
# installs the npm dependencies from the lock file, and compiles TypeScript.
set -euo pipefail
cd "$(dirname "$0")/.."

mapfile -t wanted < <(grep -Ev '^\s*(#|$)' scripts/system-packages.txt)
missing=()
for pkg in "${wanted[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if [ "${#missing[@]}" -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  echo "setup: installing system packages: ${missing[*]}"
  $SUDO apt-get update -qq
  # Debian's daemons (rtpengine, kamailio, redis-server) must not start as system services: the
  # engine runs its own private instances, and a system kamailio would take port 5060. Unless the
  # machine already forbids service starts (policy-rc.d), forbid them for this install only.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  $SUDO env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -qq --no-install-recommends "${missing[@]}" || {
    [ "$own_policy" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
    exit 1
  }
  [ "$own_policy" = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d
  # and not at the next boot either (systemd machines)
  if [ -d /run/systemd/system ]; then
    for unit in rtpengine-daemon kamailio redis-server; do
      $SUDO systemctl disable --now "$unit" >/dev/null 2>&1 || true
    done
  fi
else
  echo "setup: system packages already installed"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build
echo "setup: done"
