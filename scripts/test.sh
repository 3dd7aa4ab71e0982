#!/usr/bin/env bash
# The README's test command: set up, then run every workspace's tests through turbo.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1
bash scripts/setup.sh
# One task at a time: the suites start real servers and browsers, and the machines have 2 cores.
exec pnpm turbo test --concurrency=1 --continue=always "$@"
