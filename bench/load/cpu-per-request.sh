#!/usr/bin/env bash
# One wrk run against a running API, reported with the API process's CPU per request (utime + stime from /proc over
# the run, divided by the requests): a figure that moves far less with the machine's load than req/s does, for
# comparing two builds side by side (start both against the same PostgreSQL and Redis with different
# Caching__KeyPrefix values, then alternate this script between them). With PG_PID (the postmaster) and REDIS_PID set,
# as bench/load/stack.sh sets them, it also gives what each request cost PostgreSQL, Redis and the whole machine (cpu.sh).
#   bench/load/cpu-per-request.sh PID BASE_URL alive|hit|miss [CONNECTIONS=64] [SECONDS=6]
# miss clears the cache first (X-Admin-Key from ADMIN_KEY, default perf-key) and asks every user of S once (miss-all.lua).
set -euo pipefail
pid=$1 base=$2 kind=$3 connections=${4:-64} seconds=${5:-6}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case $kind in
  alive) args=(-s "$here/report.lua" "$base/alive") ;;
  hit) args=(-s "$here/report.lua" "$base/users/123/recommendations?limit=20") ;;
  miss) curl -fs -X POST -H "X-Admin-Key: ${ADMIN_KEY:-perf-key}" "$base/admin/cache/clear" >/dev/null
        args=(-s "$here/miss-all.lua" "$base") ;;
  *) echo "kind: alive, hit or miss" >&2; exit 2 ;;
esac
# shellcheck source=cpu.sh
. "$here/cpu.sh"
before=$(cpu_ticks "$pid")
result=$(wrk --timeout 10s -t"$((connections < 2 ? 1 : 2))" -c"$connections" -d"${seconds}s" "${args[@]}" | grep '^RESULT')
after=$(cpu_ticks "$pid")
requests=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$result")
cpu=$(cpu_per_request "$before" "$after" "$requests")
echo "$kind connections=$connections $(cut -d' ' -f2,4,5 <<<"$result") cpu_us_per_request: $cpu load=$(cut -d' ' -f1 /proc/loadavg)"
