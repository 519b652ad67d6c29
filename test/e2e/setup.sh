#!/usr/bin/env bash
# Fetches real Postfix, Exim and rsyslog from Debian's archive and unpacks them into a private root
# (they conflict as installed MTAs; unpacked, they sit side by side and touch nothing of the system).
# libfaketime runs an MTA on a clock the test moves (hours of log in seconds, for onsets).
# ClickHouse (Debian's 18.16: usr/sbin/clickhouse-server, the engine in libclickhouse.so) takes
# mta550's NDJSON for SQL checks; the libraries it needs beyond a base bookworm system come along.
# Idempotent: an existing root is reused. Creates the system users the daemons need.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${MTA550_E2E_ROOT:-/var/tmp/mta550-e2e/root}
pkgs="postfix exim4-base exim4-daemon-light exim4-config libidn12 rsyslog libestr0 libfastjson4 libfaketime"
pkgs="$pkgs clickhouse-server clickhouse-common libcapnp-0.9.2 libcctz2 libcpuinfo0 libdouble-conversion3 libfarmhash0
  libjemalloc2 libmariadb3 libmetrohash1 libodbc2 libltdl7 libpcre3 librdkafka1 libre2-9 libpococrypto80 libpocodata80
  libpocodataodbc80 libpocofoundation80 libpocojson80 libpocomongodb80 libpoconet80 libpoconetssl80 libpocoutil80 libpocoxml80"
if [ ! -x "$root/usr/sbin/postfix" ] || [ ! -x "$root/usr/sbin/exim4" ] || [ ! -x "$root/usr/sbin/rsyslogd" ] || [ ! -f "$root/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1" ] ||
  [ ! -x "$root/usr/sbin/clickhouse-server" ] || [ ! -f "$root/usr/lib/x86_64-linux-gnu/libclickhouse.so.18.16" ] || [ ! -e "$root/lib/x86_64-linux-gnu/libpcre.so.3" ]; then
  if [ "$(id -u)" != 0 ]; then echo "setup.sh: the end-to-end suite needs root (network and mount namespaces)" >&2; exit 1; fi
  mkdir -p "$root" "$root.debs"
  cd "$root.debs"
  if ! apt-get download $pkgs >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    apt-get download $pkgs >/dev/null
  fi
  for deb in ./*.deb; do dpkg -x "$deb" "$root"; done
fi
getent group postdrop >/dev/null || groupadd --system postdrop
getent passwd postfix >/dev/null || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin postfix
getent group Debian-exim >/dev/null || groupadd --system Debian-exim
getent passwd Debian-exim >/dev/null || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin -g Debian-exim Debian-exim
# The SMTP client libraries of app-libraries.e2e.ts (PHP, Ruby, Java), installed as system packages.
bash "$here/setup-app-libraries.sh" >&2
# The browser html-report.e2e.ts opens the HTML report in (Debian's chromium, headless).
bash "$here/setup-browser.sh" >&2
# The DNS server dns-posture.e2e.ts serves its test zones from (Debian's dnsmasq-base).
bash "$here/setup-dns.sh" >&2
for bin in /usr/sbin/ip /usr/bin/unshare; do
  [ -x "$bin" ] || { echo "setup.sh: $bin is missing (iproute2, util-linux)" >&2; exit 1; }
done
echo "$root"
