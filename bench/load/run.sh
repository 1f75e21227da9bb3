#!/usr/bin/env bash
# Load and resilience check of the API on the S dataset, every figure of docs/PERFORMANCE.md's summary in one run:
#   (a) /alive next to cache hits, alternating, 2 rounds     (b) cache misses at 1, 2, 4 connections
#   (b') miss-heavy: 64 connections, every request a different user over all of S (misses across every tier), with what
#        a miss cost the machine, the API, PostgreSQL and Redis in CPU (cpu.sh)
#   (c) cross-instance eviction and item deactivation (A writes, B is probed)
#   (d) Redis killed under load, then restarted              (e) Redis hung (SIGSTOP) under load, then resumed
# Self-contained (bench/load/stack.sh): its own PostgreSQL cluster and redis-server on free loopback ports in a temporary directory, the
# Release builds of the API and the Refresher, two API instances; everything is stopped and deleted on exit.
# Prints a summary block at the end, ready to paste. Knobs: DURATION (wrk runs, default 10s), OUTAGE_DURATION
# (default 20, seconds), ROUNDS (cross-instance rounds, default 50), BENCH_RESULTS (a directory to keep raw results),
# API_LOG_LEVEL (the services' Logging:LogLevel:Default, default Warning; appsettings.json ships Information), GCDUMP
# (set: A's managed heap at the end, with dotnet-gcdump: `dotnet tool install -g dotnet-gcdump`, on PATH).
set -euo pipefail
DURATION=${DURATION:-10s}
OUTAGE_DURATION=${OUTAGE_DURATION:-20}
ROUNDS=${ROUNDS:-50}
export SLOW_MS=250   # Caching:DistributedCacheHardTimeout's default: no request should wait on Redis longer

# shellcheck source=stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"
{
  echo "outage_s=$OUTAGE_DURATION"
  echo "slow_ms=$SLOW_MS"
} >>"$RESULTS/meta"
api_start "$A_PORT"
HIT="/users/123/recommendations?limit=20"

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

# (b') Miss-heavy: 64 connections over all users of S in a scrambled order, each user once; then the cache is cleared
# again so that (c) starts from the state it always had.
curl -fs -X POST -H "X-Admin-Key: perf-key" "$A/admin/cache/clear" >/dev/null
echo "load_miss_heavy=$(load_avg)" >>"$RESULTS/meta"
log "(b') miss-heavy: 64 connections, every request a different user"
cpu_before=$(cpu_ticks "$(cat "$WORK/api-$A_PORT.pid")")
wrk --timeout 10s -t2 -c64 -d"$DURATION" -s "$BENCH_LOAD/miss-all.lua" "$A" | tee "$RESULTS/miss_heavy"
echo "miss_heavy_cpu=$(cpu_per_request "$cpu_before" "$(cpu_ticks "$(cat "$WORK/api-$A_PORT.pid")")" \
  "$(sed -n 's/^RESULT.*requests=\([0-9]*\).*/\1/p' "$RESULTS/miss_heavy")")" >>"$RESULTS/meta"
curl -fs -X POST -H "X-Admin-Key: perf-key" "$A/admin/cache/clear" >/dev/null

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
      sleep 7; since=$(date +%s.%N); redis_start; REDIS_PID=$(cat "$WORK/redis.pid"); echo "   Redis restarted (empty)" ;;
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

# Each API instance's resident memory after everything above (the L1 holds at most Caching:MaximumLocalEntries lists).
# GCDUMP=1: also A's managed heap at that moment (dotnet-gcdump, a dotnet tool), to tell live objects from GC room.
if [ -n "${GCDUMP:-}" ]; then
  dotnet-gcdump collect -p "$(cat "$WORK/api-$A_PORT.pid")" -o "$RESULTS/api-a.gcdump" >/dev/null
  dotnet-gcdump report "$RESULTS/api-a.gcdump" >"$RESULTS/api-a.gcdump.txt"
  echo "gc_heap_a_mb=$(awk 'NR == 1 {gsub(",", "", $1); print int($1 / 1048576)}' "$RESULTS/api-a.gcdump.txt")" >>"$RESULTS/meta"
fi
# Read three times: at the end of the last phase, at the peak (VmHWM), and after Memory:IdleTrimAfter (10 s) of idle
# plus one timer period, when the API has compacted its heap and returned the free part (IdleHeapTrim).
status_mb() { echo $(($(awk -v f="$2:" '$1 == f {print $2}' "/proc/$(cat "$WORK/api-$1.pid")/status") / 1024)); }
rss_end_a=$(status_mb "$A_PORT" VmRSS) rss_end_b=$(status_mb "$B_PORT" VmRSS)
sleep 25
{
  echo "rss_end_a_mb=$rss_end_a"
  echo "rss_end_b_mb=$rss_end_b"
  echo "rss_peak_a_mb=$(status_mb "$A_PORT" VmHWM)"
  echo "rss_peak_b_mb=$(status_mb "$B_PORT" VmHWM)"
  echo "rss_a_mb=$(status_mb "$A_PORT" VmRSS)"
  echo "rss_b_mb=$(status_mb "$B_PORT" VmRSS)"
  echo "l1_budget=${Caching__MaximumLocalEntries:-10000}"
  curl -fs "$A/stats" | python3 -c 'import json,sys; c=json.load(sys.stdin)["cache"]; t=c["tiers"]; print("cache_a=hit rate %.2f: %d L1 hits, %d L2 hits, %d engine runs" % (c["total"]["hit_rate"], t["l1_hits"], t["l2_hits"], t["factory_runs"]))' || echo "cache_a=?"
} >>"$RESULTS/meta"

# Last, so that the APIs' loading of the new model moves no figure above.
log "model rebuild: every job again on re-read data, the tuning kept (POST /admin/refresh/all)"
model_rebuild

echo
echo "==== summary: paste into docs/PERFORMANCE.md ===="
python3 "$BENCH_LOAD/probe.py" summary "$RESULTS"
