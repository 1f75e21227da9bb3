#!/usr/bin/env bash
# The API's memory and speed under each garbage-collector setting, on the S stack of bench/load/stack.sh: for each
# setting one API instance is started, then 64 connections ask for every user of S once (misses filling the L1 to its
# budget), then 64 connections repeat one cached list (hits); the instance's resident memory (now and peak) is read at
# the end. The settings: server GC with DATAS (the .NET 10 default for server GC), server GC without DATAS, server GC
# with ConserveMemory 5, server GC with DATAS aiming at a 10% GC cost (GCDTargetTCP, hex), the default GC with half the
# L1 budget, and workstation (concurrent) GC. Prints one table row per setting.
# Knobs: DURATION (each wrk run, default 20s), BENCH_RESULTS (a directory to keep raw results).
set -euo pipefail
DURATION=${DURATION:-20s}
# shellcheck source=stack.sh
. "$(dirname "${BASH_SOURCE[0]}")/stack.sh"

settings=(
  "server GC, DATAS|DOTNET_gcServer=1 DOTNET_GCDynamicAdaptationMode=1"
  "server GC, no DATAS|DOTNET_gcServer=1 DOTNET_GCDynamicAdaptationMode=0"
  "server GC, DATAS, ConserveMemory 5|DOTNET_gcServer=1 DOTNET_GCDynamicAdaptationMode=1 DOTNET_GCConserveMemory=5"
  "server GC, DATAS, throughput cost target 10% (default 2%)|DOTNET_gcServer=1 DOTNET_GCDynamicAdaptationMode=1 DOTNET_GCDTargetTCP=a"
  "server GC, DATAS, L1 budget 5,000 lists|DOTNET_gcServer=1 DOTNET_GCDynamicAdaptationMode=1 Caching__MaximumLocalEntries=5000"
  "workstation GC (concurrent)|DOTNET_gcServer=0 DOTNET_gcConcurrent=1"
)
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }   # $1 = a RESULT line, $2 = a key in it
rows=()
for setting in "${settings[@]}"; do
  name=${setting%%|*}
  redis-cli -p "$REDIS_PORT" flushall >/dev/null
  log "$name"
  # shellcheck disable=SC2086 # the setting's variables, one word each
  ( export ${setting#*|}; api_start "$A_PORT" )
  pid=$(cat "$WORK/api-$A_PORT.pid"); pids+=("$pid")
  wrk --timeout 10s -t2 -c64 -d"$DURATION" -s "$BENCH_LOAD/miss-all.lua" "$A" | tee "$RESULTS/memory_miss_$pid"
  wrk_ -t2 -c64 -d"$DURATION" "$A/users/123/recommendations?limit=20" | tee "$RESULTS/memory_hit_$pid"
  rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$pid/status") peak=$(awk '/VmHWM/ {print int($2 / 1024)}' "/proc/$pid/status")
  miss=$(grep RESULT "$RESULTS/memory_miss_$pid") hit=$(grep RESULT "$RESULTS/memory_hit_$pid")
  rows+=("| $name | $rss MB | $peak MB | $(field "$miss" rps) req/s, p99 $(field "$miss" p99) ms | $(field "$hit" rps) req/s | $(load_avg) |")
  kill "$pid"; wait "$pid" 2>/dev/null || true
done

echo
echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on commit $(git rev-parse --short HEAD) ($(nproc) cores), DURATION=$DURATION each:"
echo
echo "| GC setting | RSS after | peak RSS | misses, 64 connections | hits, 64 connections | load avg |"
echo "|---|---:|---:|---|---|---:|"
printf '%s\n' "${rows[@]}"
