#!/usr/bin/env bash
# Idempotent machine and workspace setup; quiet when there is nothing to do.
#   - pnpm 12.4.2 (npm install -g; corepack fails on signatures here)
#   - Debian's Chromium for the browser tests, when /usr/bin/chromium is missing
#   - Debian's PostgreSQL for the PostgreSQL storage tests, when no initdb is installed (the tests
#     start their own throwaway server; the package's own cluster is not needed and not touched)
#   - Debian's redis-server for the cluster tests, when redis-server is missing (the tests start their
#     own throwaway server on a free port; the package's own service is not needed and not touched)
#   - Debian's tmux for the CLI's terminal tests, when tmux is missing
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

# Installs a Debian package when we are root with apt-get; otherwise says which tests will fail.
apt_install() {
  local package=$1 why=$2
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian's $package $why"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
  else
    echo "setup: $package is missing and cannot be installed here; the tests that need it will fail" >&2
  fi
}

if [ ! -x /usr/bin/chromium ] && [ "${TOOLRUN_SKIP_CHROMIUM:-0}" != "1" ]; then
  apt_install chromium "for the browser tests"
fi

# tmux: the CLI's Ctrl-C prompt and pnpm start's terminal output are tested in a real pseudo-terminal.
if ! command -v tmux >/dev/null 2>&1; then
  apt_install tmux "for the terminal tests (apps/cli/test/terminal.test.ts, apps/server/test/start.test.ts)"
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

if ! command -v redis-server >/dev/null 2>&1 && [ "${TOOLRUN_SKIP_REDIS:-0}" != "1" ]; then
  apt_install redis-server "for the cluster tests (packages/cluster, apps/server/test/cluster)"
fi

# Install only when the lockfile changed since the last successful install.
stamp=node_modules/.toolrun-install-stamp
lock_sum=$(cat pnpm-lock.yaml package.json pnpm-workspace.yaml */*/package.json bench/package.json 2>/dev/null | sha1sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  echo "setup: pnpm install (a cold install compiles better-sqlite3 and takes a few minutes)"
  pnpm install --frozen-lockfile --reporter=silent
  echo "$lock_sum" > "$stamp"
fi
