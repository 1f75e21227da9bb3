#!/usr/bin/env bash
# Load check of the API on the S dataset: cache hits next to /alive in the same run, then cache misses.
# Starts its own PostgreSQL and Redis on private ports, seeds S if the database is empty, lets the Refresher build
# the model, runs wrk, and stops everything. Figures go to docs/PERFORMANCE.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
export RECAPP_PG_PORT=${RECAPP_PG_PORT:-55732} RECAPP_REDIS_PORT=${RECAPP_REDIS_PORT:-56679}
DURATION=${DURATION:-10s}
H=http://127.0.0.1:5180
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
./dev.sh infra >/dev/null
export ConnectionStrings__recdb="Host=127.0.0.1;Port=$RECAPP_PG_PORT;Username=recapp;Database=recdb"
export ConnectionStrings__redis="127.0.0.1:$RECAPP_REDIS_PORT"
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning
for project in src/RecApp.Refresher src/RecApp.Api; do dotnet build "$project" -c Release -v quiet -nologo >/dev/null; done
REFRESHER=src/RecApp.Refresher/bin/Release/net10.0/RecApp.Refresher.dll
API=src/RecApp.Api/bin/Release/net10.0/RecApp.Api.dll
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; ./dev.sh stop; }
trap cleanup EXIT
psql_() { psql -h 127.0.0.1 -p "$RECAPP_PG_PORT" -U recapp -d recdb -tAc "$1"; }

dotnet "$REFRESHER" seed --size S --seed 42 --if-empty
if [ "$(psql_ "SELECT count(*) FROM model_current")" -lt 5 ]; then
  dotnet "$REFRESHER" & pids+=($!)
  until [ "$(psql_ "SELECT count(*) FROM job_runs WHERE status = 'succeeded'" 2>/dev/null || echo 0)" -ge 4 ]; do sleep 1; done
  echo "== model rebuild (start-up run of every job, from job_runs)"
  psql_ "SELECT job || ': ' || duration_ms || ' ms' FROM job_runs WHERE status = 'succeeded' ORDER BY id"
  kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null || true; pids=()
fi

ASPNETCORE_URLS=$H Admin__ApiKey=perf-key RateLimiting__Enabled=false dotnet "$API" & pids+=($!)
until curl -fs "$H/health" >/dev/null 2>&1; do sleep 0.5; done
curl -s "$H/users/123/recommendations?limit=20" >/dev/null   # puts user 123's list in the cache
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in 1 2; do
  echo "== /alive (round $round)";            wrk -t2 -c64 -d"$DURATION" -s bench/load/report.lua "$H/alive"
  echo "== cache hit (round $round)";         wrk -t2 -c64 -d"$DURATION" -s bench/load/report.lua "$H/users/123/recommendations?limit=20"
done
for connections in 1 2 4; do
  curl -s -X POST -H "X-Admin-Key: perf-key" "$H/admin/cache/clear" >/dev/null
  echo "== cache miss, $connections connection(s)"; wrk -t1 -c"$connections" -d"$DURATION" -s bench/load/miss.lua "$H"
done
