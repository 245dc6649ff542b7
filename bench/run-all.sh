#!/usr/bin/env bash
# Every benchmark, one after another (they measure CPU: never run two at once).
# Results (JSON + SVG) go to bench/results/. Not part of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run build
npx tsx bench/sip/capacity.ts
npx tsx bench/engine/full-call.ts
npx tsx bench/sip/soak.ts
npx tsx bench/sip/overload.ts
npx tsx bench/media/media-bench.ts
npx tsx bench/media/prompt-pacing.ts
npx tsx bench/api/monitor-bench.ts
npx tsx bench/recordings/recordings-bench.ts
npx tsx bench/recordings/throughput-bench.ts
npx tsx bench/policy/decide-throughput.ts --out bench/policy/results.json
