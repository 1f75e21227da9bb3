#!/usr/bin/env bash
# How fast a freshly started API answers misses while saturated: a new replica after a deploy or a scale-out. Fresh
# API processes, one at a time on the same stack (bench/load/stack.sh: PostgreSQL, Redis, S, the model), each asked
# ROUNDS rounds of ROUND_SECONDS s of 64-connection misses over every user of S (cpu-per-request.sh … miss 64); the .NET
# default (quick JIT for loops on, forced with DOTNET_TC_QuickJitForLoops=1) and the API as shipped (its project file
# turns it off) alternate, PAIRS times. Prints one line per process: req/s and API CPU per miss, round by round.
# Knobs: PAIRS (default 3), ROUNDS (default 3), ROUND_SECONDS (stack.sh, default 6). docs/PERFORMANCE.md, "Warm-up".
set -euo pipefail
PAIRS=${PAIRS:-3}
ROUNDS=${ROUNDS:-3}

# shellcheck source=stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

fresh() {  # $1 = label; the rest: VAR=value settings for this process only
  local label=$1 line pid
  shift
  ( [ $# -eq 0 ] || export "$@"; api_start "$A_PORT" )
  pid=$(cat "$WORK/api-$A_PORT.pid")
  pids+=("$pid")
  line="$label:"
  for _ in $(seq "$ROUNDS"); do
    line="$line $("$BENCH_LOAD/cpu-per-request.sh" "$pid" "$A" miss 64 "$ROUND_SECONDS" \
      | sed 's/.*rps=\([0-9.]*\).*api=\([0-9]*\).*load=\(.*\)/| \1 req\/s, \2 µs (load \3)/')"
  done
  echo "$line"
  kill "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
}

for pair in $(seq "$PAIRS"); do
  log "pair $pair"
  fresh "quick JIT for loops on (the .NET default)" DOTNET_TC_QuickJitForLoops=1
  fresh "as shipped (off)"
done
