#!/usr/bin/env bash
# Install the Debian packages gridmap needs: PostgreSQL + PostGIS (embedded database, tests),
# Chromium (browser tests, screenshots), CJK fonts (the UI is Chinese), Node.js/npm (front-end assets),
# GDAL's command-line tools (ogrinfo reads the OGC API - Features service in tests).
# Idempotent: only missing packages are installed.
set -euo pipefail

packages=(postgresql postgresql-contrib postgis postgresql-15-postgis-3 chromium fonts-noto-cjk nodejs npm gdal-bin)
missing=()
for pkg in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    # nodejs/npm may come from elsewhere than Debian: a working binary is enough.
    case "$pkg" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi

echo "system packages: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The Debian package starts a cluster on port 5432 as a service; gridmap runs its own.
