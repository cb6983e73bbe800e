#!/usr/bin/env bash
# Installs everything Meshplane needs from the npm registry and builds it:
# pinned pnpm into .tools/, workspace dependencies, the Prisma clients, the server's
# JavaScript (dist/), the typed GraphQL documents and the web UI. Safe to run again: each step is skipped when current.
#
# Prints one line per step; the steps' own output (pnpm, node-gyp's compiler lines, Prisma,
# esbuild, vite: ~400 lines on a fresh clone) goes to .tools/logs/bootstrap-<time>.log. A step
# that fails prints its output (the last 40 lines, or all of it when CI=true: CI's clone and its
# log are gone after the run) and the log's path, and the script exits with the step's status.
# MESHPLANE_VERBOSE=1 also shows every step's output as it runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
PNPM_VERSION=10.34.9
# node-gyp builds better-sqlite3 against the machine's Node headers, never downloaded ones.
if [ -d /usr/include/node ] && [ -z "${npm_config_nodedir:-}" ]; then export npm_config_nodedir=/usr; fi

logs="$root/.tools/logs"
mkdir -p "$logs"
log="$logs/bootstrap-$(date +%Y%m%d-%H%M%S)-$$.log"
: >"$log"
# Keep the last 10 runs' logs.
{ ls -1t "$logs"/bootstrap-*.log 2>/dev/null || true; } | tail -n +11 | while IFS= read -r old; do rm -f -- "$old"; done
announced=
# step TITLE COMMAND...: runs the command with its output appended to the log.
step() {
  local title=$1
  shift
  if [ -z "$announced" ]; then
    echo "meshplane: $title (log: ${log#"$root"/})"
    announced=1
  else
    echo "meshplane: $title"
  fi
  local start
  start=$(($(wc -c <"$log") + 1))
  printf '\n=== %s: %s\n' "$title" "$*" >>"$log"
  local status=0
  if [ "${MESHPLANE_VERBOSE:-}" = 1 ]; then
    "$@" 2>&1 | tee -a "$log" || status=$?
  else
    "$@" >>"$log" 2>&1 || status=$?
  fi
  if [ "$status" -ne 0 ]; then
    {
      echo "meshplane: $title failed (exit $status). Its output:"
      if [ "${CI:-}" = true ]; then tail -c +"$start" "$log"; else tail -c +"$start" "$log" | tail -n 40; fi
      echo "meshplane: full log: $log"
    } >&2
    exit "$status"
  fi
}

if [ "$(.tools/node_modules/.bin/pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  step "installing pnpm $PNPM_VERSION into .tools/" npm install --no-save --no-audit --no-fund --prefix .tools "pnpm@$PNPM_VERSION"
fi
pnpm() { "$root/.tools/node_modules/.bin/pnpm" "$@"; }
step "installing dependencies" pnpm install --frozen-lockfile --reporter=append-only
step "generating the database clients and the GraphQL schema" pnpm --filter @meshplane/server run generate
step "building the server" pnpm --filter @meshplane/server run build
step "building the web UI" pnpm run build
