#!/usr/bin/env bash
# The admin UI is tested in the system Chromium (Debian package `chromium`); install it once.
set -eu
[ -x /usr/bin/chromium ] && exit 0
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
