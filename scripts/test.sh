#!/usr/bin/env bash
# The full test suite: types, lint, then every test (unit, integration with
# real peers). Benchmarks are not part of it (see bench/).
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build
npx eslint . --max-warnings 0
npx vitest run "$@"
