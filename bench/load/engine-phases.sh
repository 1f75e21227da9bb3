#!/usr/bin/env bash
# Where the engine's CPU goes, phase by phase, on one thread and under load, in the API itself: the working tree with
# engine-phases.patch applied (each phase of ScoringEngine.ForUser reads the thread's CPU clock, CLOCK_THREAD_CPUTIME_ID,
# and two /debug/engine-phases routes report the sums), built and started on the load run's stack (stack.sh: S, the
# Refresher's model). After WARM_ROUNDS unreported rounds of 4-connection misses and one unreported one-thread pass it
# prints, ROUNDS times:
#   one thread: the engine over 300 users read from PostgreSQL (ids 1, 38, 75, … with 3+ items), the last of 5 passes;
#   under load: every engine run of ROUND_SECONDS s of 4-connection misses over every user of S (cpu-per-request.sh).
# µs of the engine thread's CPU per blend-tier user for each source and for stage two, per run for the whole ForUser
# (for_user; for_user_wall is its wall time). Knobs: ROUNDS (default 3), ROUND_SECONDS (stack.sh, default 6), WARM_ROUNDS
# (default 4). Linux only. docs/PERFORMANCE.md, "The engine inside the API".
set -euo pipefail
ROUNDS=${ROUNDS:-3}
WARM_ROUNDS=${WARM_ROUNDS:-4}

# shellcheck source=stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

log "instrumented build: the working tree with bench/load/engine-phases.patch"
API=$(api_variant phases git apply "$BENCH_LOAD/engine-phases.patch") ||
  { echo "engine-phases.patch no longer applies to this tree, or the build failed: redo its few lines and regenerate it" >&2; exit 1; }
api_start "$A_PORT"
pid=$(cat "$WORK/api-$A_PORT.pid")

log "warm-up: $WARM_ROUNDS rounds of 4-connection misses, not reported"
for _ in $(seq "$WARM_ROUNDS"); do "$BENCH_LOAD/cpu-per-request.sh" "$pid" "$A" miss 4 "$ROUND_SECONDS" >/dev/null; done
curl -fs "$A/debug/engine-phases?users=300&rounds=5" >/dev/null
for r in $(seq "$ROUNDS"); do
  log "round $r"
  echo "one thread:  $(curl -fs "$A/debug/engine-phases?users=300&rounds=5")"
  curl -fs "$A/debug/engine-phases/since-last" >/dev/null
  load=$("$BENCH_LOAD/cpu-per-request.sh" "$pid" "$A" miss 4 "$ROUND_SECONDS")
  echo "under load:  $(curl -fs "$A/debug/engine-phases/since-last") ($(cut -d' ' -f3 <<<"$load"), $(grep -o 'machine=[0-9]*' <<<"$load") µs per miss)"
done
