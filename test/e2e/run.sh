#!/usr/bin/env bash
# npm run test:e2e: real Postfix (and later Exim) write the logs, mta550 must find what happened.
# Fetches the MTAs (setup.sh), then runs the suite inside fresh network, mount and PID namespaces:
# only loopback exists, /etc/hosts and /dev/log are the run's own, and every process the suite
# started dies with the namespace when it ends.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(bash test/e2e/setup.sh)
export MTA550_E2E_ROOT="$root" MTA550_E2E_NAMESPACE=1
exec unshare --net --mount --pid --fork --mount-proc --propagation private bash -c '
  set -e
  ip link set lo up
  exec npx vitest run --config test/e2e/vitest.config.ts "$@"
' bash "$@"
