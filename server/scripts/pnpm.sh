#!/usr/bin/env bash
# Runs the project's pinned pnpm (installed into .tools/ by bootstrap.sh), so a machine
# with only Node and npm needs nothing global.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
exec "$root/.tools/node_modules/.bin/pnpm" "$@"
