#!/usr/bin/env bash
# Installs the DNS server dns-posture.e2e.ts serves its test zones from (issue #14 item 5, --check-dns):
# Debian 12's dnsmasq-base (dnsmasq 2.90, the binary without the system service). Idempotent and
# quiet: installs only when missing (a few seconds), writes nothing on standard output (setup.sh's
# output is the MTA root). Needs root.
set -euo pipefail
pkgs="dnsmasq-base"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then echo "setup-dns.sh: missing packages ($missing ); installing them needs root" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; }
if ! install; then
  apt-get update -qq >/dev/null 2>&1
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
