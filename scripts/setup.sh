#!/usr/bin/env bash
# Idempotent machine and workspace setup; quiet when there is nothing to do.
#   - pnpm 12.4.2 (npm install -g; corepack fails on signatures here)
#   - Debian's Chromium for the browser tests, when /usr/bin/chromium is missing
#   - Debian's PostgreSQL for the PostgreSQL storage tests, when no initdb is installed (the tests
#     start their own throwaway server; the package's own cluster is not needed and not touched)
#   - pnpm install --frozen-lockfile, compiling better-sqlite3 against Node's own headers
set -euo pipefail
cd "$(dirname "$0")/.."

export TURBO_TELEMETRY_DISABLED=1
export npm_config_nodedir="${npm_config_nodedir:-/usr}"

want_pnpm=12.4.2
if [ "$(pnpm --version 2>/dev/null || true)" != "$want_pnpm" ]; then
  echo "setup: installing pnpm $want_pnpm"
  npm install -g --silent "pnpm@$want_pnpm" >/dev/null 2>&1
fi

if [ ! -x /usr/bin/chromium ] && [ "${TOOLRUN_SKIP_CHROMIUM:-0}" != "1" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's chromium for the browser tests"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "setup: /usr/bin/chromium is missing and cannot be installed here; browser tests will fail" >&2
  fi
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && [ "${TOOLRUN_SKIP_POSTGRES:-0}" != "1" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's postgresql for the PostgreSQL storage tests"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "setup: PostgreSQL (initdb) is missing and cannot be installed here; PostgreSQL tests will fail" >&2
  fi
fi

# Install only when the lockfile changed since the last successful install.
stamp=node_modules/.toolrun-install-stamp
lock_sum=$(cat pnpm-lock.yaml package.json pnpm-workspace.yaml */*/package.json bench/package.json 2>/dev/null | sha1sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  echo "setup: pnpm install (a cold install compiles better-sqlite3 and takes a few minutes)"
  pnpm install --frozen-lockfile --reporter=silent
  echo "$lock_sum" > "$stamp"
fi
