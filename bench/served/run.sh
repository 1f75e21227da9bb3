#!/usr/bin/env bash
# Issue 9's target "the served answer after import equals the evaluator's figure within ±0.01", end to end on the real
# datasets (docs/EVALUATION.md, "Served after import"). For each dataset: a fresh empty database on the dev PostgreSQL
# (./dev.sh infra), the API started on it (Release build, rate limiting off), then `evaluate --served-by`: split,
# import the training part, build with the Refresher's jobs, serve every test user over HTTP, compare.
#
#   bench/served/run.sh [SEED]       (default 42; datasets from ../shared/datasets, or RECAPP_DATASETS)
#
# Ports: RECAPP_PG_PORT / RECAPP_REDIS_PORT as for ./dev.sh, API on RECAPP_SERVED_API_PORT (default 5081, so it does
# not collide with the AppHost's 5080). Reports (text, JSON, the API's log) go to .dev/served/ (git-ignored). Exit code:
# 0 when every dataset is within ±0.01, else the first failing evaluate's code (3 = outside the tolerance).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
SEED=${1:-42}
DATASETS=${RECAPP_DATASETS:-$(cd "$ROOT/.." && pwd)/shared/datasets}
PG_PORT=${RECAPP_PG_PORT:-55432}
REDIS_PORT=${RECAPP_REDIS_PORT:-56379}
API_PORT=${RECAPP_SERVED_API_PORT:-5081}
RESULTS=$ROOT/.dev/served
mkdir -p "$RESULTS"

./dev.sh infra >/dev/null
dotnet build src/RecApp.Refresher -c Release -v q -nologo >/dev/null
dotnet build src/RecApp.Api -c Release -v q -nologo >/dev/null
REFRESHER=$ROOT/src/RecApp.Refresher/bin/Release/net10.0/RecApp.Refresher.dll
API_DIR=$ROOT/src/RecApp.Api/bin/Release/net10.0

api_pid=""
stop_api() { [ -n "$api_pid" ] && kill "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null; api_pid=""; }
trap stop_api EXIT

status=0

# serve NAME FORMAT DIR [evaluate options...]; the first failure's exit code goes to $status.
serve() {
  local name=$1 format=$2 path=$3; shift 3
  local db="served_${name}_${SEED}_$$"
  createdb -h 127.0.0.1 -p "$PG_PORT" -U recapp "$db"
  local connection="Host=127.0.0.1;Port=$PG_PORT;Username=recapp;Database=$db"
  ( cd "$API_DIR" && exec env ConnectionStrings__recdb="$connection" ConnectionStrings__redis="127.0.0.1:$REDIS_PORT" \
      Caching__KeyPrefix="$db:" RateLimiting__Enabled=false ASPNETCORE_ENVIRONMENT=Production \
      dotnet RecApp.Api.dll --urls "http://127.0.0.1:$API_PORT" ) >"$RESULTS/api-$name-$SEED.log" 2>&1 &
  api_pid=$!
  local code=0
  ConnectionStrings__recdb="$connection" dotnet "$REFRESHER" evaluate --format "$format" --path "$path" --split-seed "$SEED" \
    --served-by "http://127.0.0.1:$API_PORT" --json "$RESULTS/$name-$SEED.json" "$@" | tee "$RESULTS/$name-$SEED.txt" || code=$?
  stop_api
  dropdb -h 127.0.0.1 -p "$PG_PORT" -U recapp "$db"
  if [ "$code" -ne 0 ] && [ "$status" -eq 0 ]; then status=$code; fi
}

serve ml-latest-small movielens "$DATASETS/ml-latest-small"
serve lastfm lastfm "$DATASETS/hetrec2011-lastfm-2k" --min-item-train-users 5
exit "$status"
