#!/usr/bin/env bash
# Debian's Chromium for the Web UI browser test (test/ops/web-ui.test.ts drives it with
# playwright-core; Playwright's own browser downloads are not used). Idempotent: does nothing when
# /usr/bin/chromium is present, and refreshes the apt index only when the package is unknown.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "40-chromium: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium) (already installed)"
  exit 0
fi

command -v apt-get >/dev/null || { echo "40-chromium: apt-get not found; install Chromium so that /usr/bin/chromium exists" >&2; exit 1; }
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "40-chromium: run as root or install sudo" >&2; exit 1; }
  sudo="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
# Other setup scripts may be installing packages at the same time: wait for dpkg's lock.
apt_opts=(-o DPkg::Lock::Timeout=600 -y -qq --no-install-recommends)
if ! apt-cache show chromium >/dev/null 2>&1; then
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
fi
# Fonts so that the screenshots show text.
$sudo apt-get install "${apt_opts[@]}" chromium fonts-dejavu-core >/dev/null
[ -x /usr/bin/chromium ] || { echo "40-chromium: chromium installed but /usr/bin/chromium is missing" >&2; exit 1; }
echo "40-chromium: $(/usr/bin/chromium --version)"
