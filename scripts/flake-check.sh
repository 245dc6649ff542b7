#!/usr/bin/env bash
# Shows that the suite does not flake on a busy machine: clones the committed
# HEAD of this checkout into a fresh directory, sets it up as CI does
# (`npm run setup`: system packages, `npm ci`, build), starts a CPU hog (a busy
# loop on HOGS cores, default 1 of the machine's 2), then runs `npm test` N
# times in a row (default 10), logging each run's result, duration and failed
# tests. The hog is stopped and the clone kept (for the logs) when it ends.
#
#   scripts/flake-check.sh [N]            # 10 runs by default
#   HOGS=2 KEEP_GOING=0 scripts/flake-check.sh 3
#
# Environment: HOGS (busy-loop processes, default 1), WORKDIR (where to clone;
# default a new directory under /tmp), KEEP_GOING (1, the default, runs all N
# even after a failure, to see every flake; 0 stops at the first).
# Exit status: 0 when every run passed. The summary is in $WORKDIR/flake-check.log.
set -euo pipefail

runs="${1:-10}"
hogs="${HOGS:-1}"
keep_going="${KEEP_GOING:-1}"
if ! [[ "$runs" =~ ^[1-9][0-9]*$ && "$hogs" =~ ^[0-9]+$ ]]; then
  echo "usage: [HOGS=n] [WORKDIR=dir] [KEEP_GOING=0|1] $0 [runs]" >&2
  exit 2
fi

src="$(cd "$(dirname "$0")/.." && pwd)"
commit="$(git -C "$src" rev-parse HEAD)"
if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
  echo "flake-check: uncommitted changes in $src are not part of the check (it tests commit $commit)" >&2
fi
workdir="${WORKDIR:-$(mktemp -d /tmp/sb-flake-check.XXXXXX)}"
mkdir -p "$workdir"
clone="$workdir/switchboard"
log="$workdir/flake-check.log"

say() {
  echo "$(date -u +%FT%TZ) $*" | tee -a "$log"
}

hog_pids=()
stop_hogs() {
  for pid in "${hog_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${hog_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  hog_pids=()
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM

say "flake-check: commit $commit, $runs runs, $hogs CPU hog(s), $(nproc) cores, in $workdir"
# A fresh clone: only what is committed, no node_modules, no dist.
git clone --quiet --no-local --no-checkout "$(git -C "$src" rev-parse --path-format=absolute --git-common-dir)" "$clone"
git -C "$clone" checkout --quiet --detach "$commit"

for ((i = 0; i < hogs; i++)); do
  # A busy loop in its own process: one core's worth of CPU another process takes.
  bash -c 'while :; do :; done' &
  hog_pids+=("$!")
done
say "hogs running: ${hog_pids[*]:-none}"

start=$SECONDS
if ! (cd "$clone" && npm run setup) >"$workdir/setup.log" 2>&1; then
  say "setup FAILED (see $workdir/setup.log)"
  exit 1
fi
setup_s=$((SECONDS - start))
say "setup (npm run setup: packages, npm ci, build) took ${setup_s} s"

passed=0
failed=0
streak=0
best_streak=0
for ((run = 1; run <= runs; run++)); do
  out="$workdir/run-$run.log"
  start=$SECONDS
  if (cd "$clone" && npm test) >"$out" 2>&1; then
    result=passed
    passed=$((passed + 1))
    streak=$((streak + 1))
  else
    result=FAILED
    failed=$((failed + 1))
    streak=0
  fi
  best_streak=$((streak > best_streak ? streak : best_streak))
  took=$((SECONDS - start))
  # vitest's summary lines, without colour codes
  summary="$(sed -E 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^ +(Test Files|Tests) ' | tr -s ' ' | paste -sd ';' - || true)"
  say "run $run/$runs: $result in ${took} s (.ci/run would take about $((setup_s + took)) s):${summary}"
  if [ "$result" = FAILED ]; then
    sed -E 's/\x1b\[[0-9;]*m//g' "$out" | grep -E '^ *(FAIL|×) |Error:|Unhandled' | sort -u | head -40 | sed 's/^/    /' | tee -a "$log"
    if [ "$keep_going" = 0 ]; then break; fi
  fi
done

say "done: $passed passed, $failed failed, longest run of consecutive passes $best_streak (logs in $workdir)"
[ "$failed" = 0 ]
