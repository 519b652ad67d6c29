#!/usr/bin/env bash
# Installs the real SMTP client libraries app-libraries.e2e.ts drives (issue #6), from Debian 12:
#   PHP:  php-cli, libphp-phpmailer (PHPMailer 6.6), php-monolog (Monolog 2.9, the log lines)
#   Ruby: ruby (Net::SMTP: the net-smtp 0.3.1 gem bundled with Ruby 3.1)
#   Java: default-jre-headless (OpenJDK 17: its module image has jdk.compiler, so `java Mailer.java`
#         runs a source file without javac), libjakarta-mail-java (Jakarta Mail 2.0.0) and
#         libmail-java (JavaMail 1.6.5, javax.mail)
# Idempotent and quiet: installs only what is missing (about 15 s on a minimal bookworm, most of it
# the JRE), writes nothing on standard output (setup.sh's output is the MTA root). Needs root.
set -euo pipefail
pkgs="php-cli libphp-phpmailer php-monolog ruby default-jre-headless libjakarta-mail-java libmail-java"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then echo "setup-app-libraries.sh: missing packages ($missing ); installing them needs root" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
install() { apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; }
if ! install; then
  apt-get update -qq >/dev/null 2>&1
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
