#!/usr/bin/env bash
# Load and resilience check of the API on the S dataset, every figure of docs/PERFORMANCE.md's summary in one run:
#   (a) /alive next to cache hits, alternating, 2 rounds     (b) cache misses at 1, 2, 4 connections
#   (c) cross-instance eviction and item deactivation (A writes, B is probed)
#   (d) Redis killed under load, then restarted              (e) Redis hung (SIGSTOP) under load, then resumed
# Self-contained: its own PostgreSQL cluster and redis-server on free loopback ports in a temporary directory, the
# Release builds of the API and the Refresher, two API instances; everything is stopped and deleted on exit.
# Prints a summary block at the end, ready to paste. Knobs: DURATION (wrk runs, default 10s), OUTAGE_DURATION
# (default 20, seconds), ROUNDS (cross-instance rounds, default 50), BENCH_RESULTS (a directory to keep raw results),
# API_LOG_LEVEL (the services' Logging:LogLevel:Default, default Warning; appsettings.json ships Information).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
DURATION=${DURATION:-10s}
OUTAGE_DURATION=${OUTAGE_DURATION:-20}
ROUNDS=${ROUNDS:-50}
API_LOG_LEVEL=${API_LOG_LEVEL:-Warning}
export SLOW_MS=250   # Caching:DistributedCacheHardTimeout's default: no request should wait on Redis longer
BENCH_LOAD="$(pwd)/bench/load"

# shellcheck source=../../scripts/local-servers.sh
. scripts/local-servers.sh
bench_need wrk redis-server postgresql

WORK=$(mktemp -d /tmp/recapp-bench.XXXXXX)
chmod 755 "$WORK"
RESULTS=$WORK/results
mkdir -p "$RESULTS"
PG_PORT=$(free_port) REDIS_PORT=$(free_port) A_PORT=$(free_port) B_PORT=$(free_port)
A=http://127.0.0.1:$A_PORT B=http://127.0.0.1:$B_PORT
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [ -f "$WORK/redis.pid" ]; then kill -CONT "$(cat "$WORK/redis.pid")" 2>/dev/null; kill "$(cat "$WORK/redis.pid")" 2>/dev/null; fi
  pg_stop "$WORK/pg" immediate
  [ -n "${BENCH_RESULTS:-}" ] && mkdir -p "$BENCH_RESULTS" && cp -r "$RESULTS"/. "$BENCH_RESULTS"/
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench || echo '+changes')"
  echo "cpus=$(nproc)"
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "slow_ms=$SLOW_MS"
  echo "outage_s=$OUTAGE_DURATION"
  echo "log_level=$API_LOG_LEVEL"
} >"$RESULTS/meta"

log "PostgreSQL and Redis in $WORK (ports $PG_PORT, $REDIS_PORT)"
pg_create "$WORK/pg"
pg_start "$WORK/pg" "$PG_PORT"
pg_ensure_database "$PG_PORT" recdb
redis_start
psql_() { psql -h 127.0.0.1 -p "$PG_PORT" -U recapp -d recdb -tAc "$1"; }

export ConnectionStrings__recdb="Host=127.0.0.1;Port=$PG_PORT;Username=recapp;Database=recdb"
export ConnectionStrings__redis="127.0.0.1:$REDIS_PORT"
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=$API_LOG_LEVEL
# Lists are computed on demand only (no start-up warm-up), so "a user not asked for before" is a miss everywhere.
export Admin__ApiKey=perf-key RateLimiting__Enabled=false Api__WarmUsers=0

log "Release build"
for project in src/RecApp.Api src/RecApp.Refresher; do
  dotnet build "$project" -c Release -v quiet -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
done
REFRESHER=src/RecApp.Refresher/bin/Release/net10.0/RecApp.Refresher.dll
API=src/RecApp.Api/bin/Release/net10.0/RecApp.Api.dll

# Schema and data. The generate verb applies the migrations first (DatabaseMigrator), so this line is the migration step;
# once migrations move to their own project, put that project's run here instead (one line) and keep the seed.
log "migrations and seed S (seed 42)"
dotnet "$REFRESHER" generate --size S --seed 42 --if-empty

log "model: the Refresher's start-up run of every job"
dotnet "$REFRESHER" >"$WORK/refresher.log" 2>&1 & refresher=$!; pids+=("$refresher")
echo "load_model=$(load_avg)" >>"$RESULTS/meta"
jobs_done() { [ "$(psql_ "SELECT count(*) FROM job_runs WHERE status = 'succeeded'" 2>/dev/null || echo 0)" -ge 4 ]; }
wait_for 600 "$refresher" "$WORK/refresher.log" jobs_done
psql_ "SELECT job || ': ' || duration_ms || ' ms' FROM job_runs WHERE status = 'succeeded' ORDER BY id"
echo "model_build_s=$(psql_ "SELECT round(extract(epoch FROM max(finished_at) - min(started_at))::numeric, 1) FROM job_runs")" >>"$RESULTS/meta"
echo "model_jobs=$(psql_ "SELECT string_agg(job || ' ' || round(duration_ms / 1000.0, 1) || ' s', ', ' ORDER BY id) FROM job_runs")" >>"$RESULTS/meta"
kill "$refresher"; wait "$refresher" 2>/dev/null || true

api_start() {  # $1 = port; answers once it serves a personalized list from the model
  ASPNETCORE_URLS=http://127.0.0.1:$1 dotnet "$API" >"$WORK/api-$1.log" 2>&1 & pids+=($!)
  wait_for 120 "$!" "$WORK/api-$1.log" sh -c "curl -fs http://127.0.0.1:$1/users/123/recommendations?limit=20 | grep -q '\"model_version\":[1-9]'"
}
api_start "$A_PORT"
HIT="/users/123/recommendations?limit=20"
wrk_() { wrk --timeout 10s -s "$BENCH_LOAD/report.lua" "$@"; }   # prints, and its last line is RESULT ...

# (a) Same process, same minute: /alive and a cache hit alternate, so a busy machine hits both alike.
log "(a) warm-up, not reported (JIT, connection pools)"
wrk -t2 -c64 -d3s "$A/alive" >/dev/null; wrk -t2 -c64 -d3s "$A$HIT" >/dev/null
echo "load_hits=$(load_avg)" >>"$RESULTS/meta"
for round in 1 2; do
  log "(a) /alive, round $round";    wrk_ -t2 -c64 -d"$DURATION" "$A/alive" | tee "$RESULTS/alive_$round"
  log "(a) cache hit, round $round"; wrk_ -t2 -c64 -d"$DURATION" "$A$HIT" | tee "$RESULTS/hit_$round"
done

# (b) Every request a user not asked for before, after clearing every list.
echo "load_misses=$(load_avg)" >>"$RESULTS/meta"
for connections in 1 2 4; do
  curl -fs -X POST -H "X-Admin-Key: perf-key" "$A/admin/cache/clear" >/dev/null
  log "(b) cache miss, $connections connection(s)"
  wrk --timeout 10s -t1 -c"$connections" -d"$DURATION" -s "$BENCH_LOAD/miss.lua" "$A" | tee "$RESULTS/miss_$connections"
done

# (c) A second instance on the same PostgreSQL and Redis; users 30001.. are untouched by (b).
api_start "$B_PORT"
echo "load_invalidation=$(load_avg)" >>"$RESULTS/meta"
log "(c) cross-instance: $ROUNDS evictions, then $ROUNDS item deactivations (A writes, B is polled)"
timeout 300 python3 "$BENCH_LOAD/probe.py" invalidation --a "$A" --b "$B" --rounds "$ROUNDS" --first-user 30001 \
  | tee "$RESULTS/invalidation"

# (d), (e) Hits and misses on A for OUTAGE_DURATION seconds; Redis fails at 5 s and is back at 12 s (killed) or
# 13 s (hung for 8 s). From its return, probe.py times the cache's recovery through both instances.
outage() {  # $1 = control | kill | hang, $2 = first probe user (recovery), $3 = first probe user (during the fault)
  curl -fs -X POST -H "X-Admin-Key: perf-key" "$A/admin/cache/clear" >/dev/null
  curl -fs "$A$HIT" >/dev/null
  echo "load_$1=$(load_avg)" >>"$RESULTS/meta"
  log "($1) ${OUTAGE_DURATION} s of cache hits (16 connections) and misses (2 connections) on A"
  wrk_ -t1 -c16 -d"${OUTAGE_DURATION}s" "$A$HIT" >"$RESULTS/$1_hit" & local hits=$!
  wrk --timeout 10s -t1 -c2 -d"${OUTAGE_DURATION}s" -s "$BENCH_LOAD/miss.lua" "$A" >"$RESULTS/$1_miss" & local misses=$!
  pids+=("$hits" "$misses")
  local redis_pid since during; redis_pid=$(cat "$WORK/redis.pid")
  case $1 in
    kill)
      sleep 5; kill -KILL "$redis_pid"; echo "   Redis killed"
      python3 "$BENCH_LOAD/probe.py" during --a "$A" --seconds 6.5 --first-user "$3" >"$RESULTS/$1_during" & during=$!; pids+=("$during")
      sleep 7; since=$(date +%s.%N); redis_start; echo "   Redis restarted (empty)" ;;
    hang)
      sleep 5; kill -STOP "$redis_pid"; echo "   Redis stopped (SIGSTOP)"
      python3 "$BENCH_LOAD/probe.py" during --a "$A" --seconds 7.5 --first-user "$3" >"$RESULTS/$1_during" & during=$!; pids+=("$during")
      sleep 8; since=$(date +%s.%N); kill -CONT "$redis_pid"; echo "   Redis resumed" ;;
  esac
  if [ "$1" != control ]; then
    timeout 30 python3 "$BENCH_LOAD/probe.py" recovery --a "$A" --b "$B" --since "$since" --deadline 8 --first-user "$2" \
      | tee "$RESULTS/$1_recovery"
  fi
  wait "$hits" "$misses"
  [ "$1" = control ] || { wait "$during"; echo "   during: $(cat "$RESULTS/$1_during")"; }
  echo "   hits:   $(grep RESULT "$RESULTS/$1_hit")"
  echo "   misses: $(grep RESULT "$RESULTS/$1_miss")"
}
outage control 0 0
outage kill 31001 35001
outage hang 33001 37001

echo
echo "==== summary: paste into docs/PERFORMANCE.md ===="
python3 "$BENCH_LOAD/probe.py" summary "$RESULTS"
