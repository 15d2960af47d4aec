#!/usr/bin/env bash
# Installs Debian's `chromium` (the headless browser the dashboard test drives) when it is missing.
# Idempotent: does nothing when /usr/bin/chromium exists; refreshes the apt lists only when apt
# does not know the package yet. Needs root (apt-get); without root it says so and leaves the
# decision to the test (skips locally with a hint, fails under CI=true).
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_chromium.sh: chromium is missing and this is not root; install it with: apt-get install -y chromium" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt/dpkg run (up to 10 minutes) instead of failing on its lock.
APT=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
if ! apt-cache show chromium >/dev/null 2>&1; then
  "${APT[@]}" update -qq
fi
"${APT[@]}" install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
command -v chromium >/dev/null
