#!/usr/bin/env bash
# What a cache miss costs without the engine: the floor that engine work alone can reach. Two API instances on the same
# stack (bench/load/stack.sh: PostgreSQL, Redis, S, the model): the API as built from this working tree, and the same
# tree with one line changed so that a personalized miss answers the popular list of the user's demographics instead of
# scoring (the history read, the cache's L1/L2 read and write, the page and the HTTP exchange stay). They alternate
# ROUNDS times, each round ROUND_SECONDS s of 64-connection misses over every user of S (cpu-per-request.sh … miss 64),
# after WARM_ROUNDS unreported rounds each (the JIT). Prints one line per round: req/s, p99 and API CPU per miss.
# Knobs: ROUNDS (default 4), ROUND_SECONDS (stack.sh, default 6), WARM_ROUNDS (default 3). docs/PERFORMANCE.md, "The miss floor: a miss without the engine".
set -euo pipefail
ROUNDS=${ROUNDS:-4}
WARM_ROUNDS=${WARM_ROUNDS:-3}
ENGINE_CALL='return _engine.ForUser(snapshot, userId, history, demographics, filters, clock.GetUtcNow().UtcDateTime);'
POPULAR_CALL='return _engine.Popular(snapshot, demographics, filters, clock.GetUtcNow().UtcDateTime);'
RECOMMENDER=src/RecApp.Api/Recommendations/Recommender.cs

# shellcheck source=stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

# The tracked files as they are in the working tree, then the one-line change; fail if the line moved.
log "floor build: $RECOMMENDER with the engine call replaced by the popular list"
FLOOR_API=$(ENGINE_CALL="$ENGINE_CALL" POPULAR_CALL="$POPULAR_CALL" api_variant floor python3 - "$RECOMMENDER" <<'EOF'
import os, sys
path = sys.argv[1]
text = open(path).read()
if text.count(os.environ["ENGINE_CALL"]) != 1:
    sys.exit(f"{path}: the engine call to replace is not there once; update ENGINE_CALL in bench/load/miss-floor.sh")
open(path, "w").write(text.replace(os.environ["ENGINE_CALL"], os.environ["POPULAR_CALL"]))
EOF
)

api_start "$A_PORT"
( export Caching__KeyPrefix=floor API=$FLOOR_API; api_start "$B_PORT" )
pids+=("$(cat "$WORK/api-$B_PORT.pid")")

round() {  # $1 = label, $2 = port
  "$BENCH_LOAD/cpu-per-request.sh" "$(cat "$WORK/api-$2.pid")" "http://127.0.0.1:$2" miss 64 "$ROUND_SECONDS" \
    | sed "s/^miss connections=64/$1:/"
}
log "warm-up: $WARM_ROUNDS rounds each, not reported"
for _ in $(seq "$WARM_ROUNDS"); do round engine "$A_PORT" >/dev/null; round floor "$B_PORT" >/dev/null; done
for r in $(seq "$ROUNDS"); do
  log "round $r"
  round "engine (as built)" "$A_PORT"
  round "floor (no engine) " "$B_PORT"
done
