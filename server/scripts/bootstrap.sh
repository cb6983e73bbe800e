#!/usr/bin/env bash
# Installs everything Meshplane needs from the npm registry and builds it:
# pinned pnpm into .tools/, workspace dependencies, the Prisma clients, the server's
# JavaScript (dist/), the typed GraphQL documents and the web UI. Safe to run again: each step is skipped when current.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
PNPM_VERSION=10.34.9
# node-gyp builds better-sqlite3 against the machine's Node headers, never downloaded ones.
if [ -d /usr/include/node ] && [ -z "${npm_config_nodedir:-}" ]; then export npm_config_nodedir=/usr; fi
if [ "$(.tools/node_modules/.bin/pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  echo "meshplane: installing pnpm $PNPM_VERSION into .tools/"
  npm install --silent --no-save --prefix .tools "pnpm@$PNPM_VERSION" >/dev/null
fi
pnpm() { "$root/.tools/node_modules/.bin/pnpm" "$@"; }
pnpm install --frozen-lockfile --reporter=append-only
pnpm --filter @meshplane/server run generate
pnpm --filter @meshplane/server run build
pnpm run build
