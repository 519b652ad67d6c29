#!/usr/bin/env bash
# Installs the browser html-report.e2e.ts drives (issue #13): Debian 12's chromium at /usr/bin/chromium,
# which playwright-core launches headless (--no-sandbox --disable-gpu, background networking off).
# Idempotent and quiet: does nothing when /usr/bin/chromium exists, installs without recommends
# otherwise (about 32 s on this bookworm: ~110 MB downloaded, ~360 MB installed, with its libraries), writes
# nothing on standard output (setup.sh's output is the MTA root). Needs root to install.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" != 0 ]; then echo "setup-browser.sh: /usr/bin/chromium is missing; installing Debian's chromium needs root" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
[ -x /usr/bin/chromium ] || { echo "setup-browser.sh: chromium installed but /usr/bin/chromium is missing" >&2; exit 1; }
