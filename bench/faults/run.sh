#!/usr/bin/env bash
# Fault and abuse campaign against the real stack: two API instances, the Refresher, PostgreSQL and Redis, every figure
# of docs/RELIABILITY.md's table in one run:
#   1 PostgreSQL killed (SIGKILL of the postmaster and its children) under WRITERS concurrent writers, then restarted:
#     acknowledged events vs rows stored (0 lost), refusals by status (each a 503 problem with Retry-After)
#   2 PostgreSQL frozen (SIGSTOP) under cached reads and misses: read throughput, /health, a write and /stats timed
#     during the freeze; SIGCONT and the time until /health is Healthy again
#   3 the Refresher killed (kill -9) while a requested rebuild runs its similarities job: what the API serves meanwhile,
#     then the time from the Refresher's restart until the API serves the rebuilt model
#   4 MALFORMED_REQUESTS malformed requests across the public endpoints: answers by status (any 5xx fails)
#   5 DUP_CONCURRENCY concurrent POSTs of one event_id, DUP_ROUNDS times: exactly one row each
#   6 ADMIN_ATTEMPTS wrong-key and keyless admin requests from one address while the operator uses the right key:
#     401 then 429 for them, 200 for the operator; the API's log volume and its aggregated warning
#   7 SOAK_DURATION of mixed reads and writes on both instances: errors, p99, each instance's RSS once a minute
#   8 (throughout) whether an API instance or the Refresher exited on its own: checked before and after every phase;
#     one that did is reported with the log entry that says why, and restarted so the campaign goes on
# Self-contained: its own PostgreSQL cluster and redis-server on free loopback ports in a temporary directory, the
# Release builds of the API and the Refresher, the S demo data, two API instances and the Refresher with the shipped
# settings (Production, rate limiting on); everything is stopped and deleted on exit. Prints one markdown table at the
# end (date, commit, load average), ready to paste into docs/RELIABILITY.md. Exit code 0 when every row passed, 3 when
# one failed (a product finding: the table says what), 1 when the campaign itself broke.
#
#   bash bench/faults/run.sh                     # about 15 minutes on a loaded 2-core machine, 5-minute soak included
#   SOAK_DURATION=30s bash bench/faults/run.sh   # about 7 minutes, while iterating
#
# Knobs (environment): SOAK_DURATION (5m; s/m/h suffixes), SOAK_CONNECTIONS (8 per instance), SOAK_RATE (200
# requests/s per instance, paced by wrk's delay), WRITERS (8), WRITE_DURATION (20, seconds of writes in phase 1),
# WRITE_AFTER (5, seconds of writes at least once PostgreSQL accepts connections again), KILL_AT (5, s into the
# writes), DB_DOWN (5, s from the kill to the restart), FREEZE_BASELINE (5, s of reads before the freeze),
# FREEZE_DURATION (10, s), KILL_INTO_BUILD (2, s into the similarities job), GAP_DURATION (10, s without a Refresher),
# REBUILD_DEADLINE (300, s), MALFORMED_REQUESTS (5000), MALFORMED_SEED (7), DUP_ROUNDS (5), DUP_CONCURRENCY (40),
# ADMIN_ATTEMPTS (2000), DATA_SIZE (S), API_LOG_LEVEL (unset: the shipped appsettings.json levels, Information with
# Microsoft.AspNetCore at Warning), BENCH_RESULTS (a directory to keep the raw results and the services' logs),
# PHASES (which phases to run, default "1 2 3 4 5 6 7").
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
# shellcheck source=../../scripts/local-servers.sh
. "$ROOT/scripts/local-servers.sh"
BENCH_FAULTS="$ROOT/bench/faults"
DATA_SIZE=${DATA_SIZE:-S}
API_LOG_LEVEL=${API_LOG_LEVEL:-}
PHASES=${PHASES:-1 2 3 4 5 6 7}
export SOAK_DURATION=${SOAK_DURATION:-5m}
campaign_started=$SECONDS

bench_need wrk redis-server postgresql
WORK=$(mktemp -d /tmp/recapp-faults.XXXXXX)
chmod 755 "$WORK"
RESULTS=$WORK/results
mkdir -p "$RESULTS"
PG_DIR=$WORK/pg
PG_PORT=$(free_port) REDIS_PORT=$(free_port) A_PORT=$(free_port) B_PORT=$(free_port)
A=http://127.0.0.1:$A_PORT B=http://127.0.0.1:$B_PORT
RUN_ID=f$(date +%s)
ADMIN_KEY=faults-$(python3 -c 'import secrets; print(secrets.token_hex(12))')
export WORK RESULTS PG_DIR PG_PORT REDIS_PORT A B RUN_ID ADMIN_KEY PG_BIN
export PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=recapp PGDATABASE=recdb

pids=()
stop_pid() {  # $1 = pid: SIGTERM, up to 10 s, then SIGKILL
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for f in "$WORK"/api-a.pid "$WORK"/api-b.pid "$WORK"/refresher.pid; do [ -f "$f" ] && stop_pid "$(cat "$f")"; done
  if [ -f "$PG_DIR/data/postmaster.pid" ]; then  # a phase may have left it frozen
    postmaster=$(head -1 "$PG_DIR/data/postmaster.pid")
    kill -CONT "$postmaster" $(pgrep -P "$postmaster") 2>/dev/null
  fi
  if [ -f "$WORK/redis.pid" ]; then kill -CONT "$(cat "$WORK/redis.pid")" 2>/dev/null; kill "$(cat "$WORK/redis.pid")" 2>/dev/null; fi
  pg_stop "$PG_DIR" immediate
  if [ -n "${BENCH_RESULTS:-}" ]; then
    mkdir -p "$BENCH_RESULTS" && cp -r "$RESULTS"/. "$BENCH_RESULTS"/ && cp "$WORK"/*.log "$PG_DIR/server.log" "$BENCH_RESULTS"/ 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

{
  run_facts
  echo "machine=$(. /etc/os-release && echo "$PRETTY_NAME"), $(free -g | awk '/^Mem:/ {print $2}') GiB"
  echo "data=$DATA_SIZE (seed 42)"
  echo "log_level=${API_LOG_LEVEL:-shipped}"
} >"$RESULTS/meta"

log "PostgreSQL and Redis in $WORK (ports $PG_PORT, $REDIS_PORT)"
pg_create "$PG_DIR" "$PG_PORT"
pg_start "$PG_DIR" "$PG_PORT"
psql -d postgres -qc "CREATE DATABASE recdb"
redis_start
psql_() { psql -XtAc "$1"; }

export ConnectionStrings__recdb="Host=127.0.0.1;Port=$PG_PORT;Username=recapp;Database=recdb"
export ConnectionStrings__redis="127.0.0.1:$REDIS_PORT"
export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production Admin__ApiKey=$ADMIN_KEY
[ -n "$API_LOG_LEVEL" ] && export Logging__LogLevel__Default=$API_LOG_LEVEL

log "Release build"
for project in src/RecApp.Api src/RecApp.Refresher; do
  dotnet build "$project" -c Release -v quiet -nologo >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log"; exit 1; }
done
export REFRESHER=$ROOT/src/RecApp.Refresher/bin/Release/net10.0/RecApp.Refresher.dll
export API=$ROOT/src/RecApp.Api/bin/Release/net10.0/RecApp.Api.dll

# The services are started detached, each writing its pid file, so a phase (faults.py) can kill and restart them
# through these exported functions, and the cleanup finds them whoever started them.
# Each runs in its output directory, its content root, so the shipped appsettings.json applies (log levels included).
refresher_start() {
  (cd "$(dirname "$REFRESHER")" && exec nohup dotnet "$REFRESHER" </dev/null >>"$WORK/refresher.log" 2>&1) &
  echo $! >"$WORK/refresher.pid"
  disown
}
api_start() {  # $1 = a | b, $2 = port
  (cd "$(dirname "$API")" && ASPNETCORE_URLS=http://127.0.0.1:$2 exec nohup dotnet "$API" </dev/null >>"$WORK/api-$1.log" 2>&1) &
  echo $! >"$WORK/api-$1.pid"
  disown
}
export -f refresher_start api_start pg_start as_postgres

log "migrations and seed $DATA_SIZE (seed 42)"
dotnet "$REFRESHER" generate --size "$DATA_SIZE" --seed 42 --if-empty
FAULTS_USERS=$(psql_ "SELECT max(id) FROM users") FAULTS_ITEMS=$(psql_ "SELECT max(id) FROM items")
export FAULTS_USERS FAULTS_ITEMS

log "the Refresher (kept running): its start-up run of every job"
refresher_start
jobs_done() { [ "$(psql_ "SELECT count(*) FROM job_runs WHERE status = 'succeeded'" 2>/dev/null || echo 0)" -ge 4 ]; }
wait_for 900 "$(cat "$WORK/refresher.pid")" "$WORK/refresher.log" jobs_done
psql_ "SELECT job || ': ' || duration_ms || ' ms' FROM job_runs WHERE status = 'succeeded' ORDER BY id"

served() { curl -fs "$1/users/123/recommendations?limit=20" | grep -q '"model_version":[1-9]'; }
healthy() { curl -fs "$1/health" | grep -q '"status": "Healthy"'; }
port_of() { if [ "$1" = a ]; then echo "$A_PORT"; else echo "$B_PORT"; fi; }
# A service that exited on its own (not the Refresher phase 3 kills, which that phase restarts) is a finding: it is
# recorded with the log entry that says why (faults.py died), restarted, and the campaign goes on.
alive() { local state; state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$1/stat" 2>/dev/null) && [ -n "$state" ] && [ "$state" != Z ]; }
check_services() {  # $1 = when, in words
  local name
  for name in a b; do
    alive "$(cat "$WORK/api-$name.pid")" && continue
    python3 -B "$BENCH_FAULTS/faults.py" died "$1" "api-$name" || true
    echo "   restarting API instance $name"
    api_start "$name" "$(port_of "$name")"
    wait_for 180 "$(cat "$WORK/api-$name.pid")" "$WORK/api-$name.log" served "http://127.0.0.1:$(port_of "$name")" || true
  done
  if ! alive "$(cat "$WORK/refresher.pid")"; then
    python3 -B "$BENCH_FAULTS/faults.py" died "$1" refresher || true
    echo "   restarting the Refresher"
    refresher_start
  fi
}

log "two API instances ($A, $B)"
api_start a "$A_PORT"
api_start b "$B_PORT"
wait_for 180 "$(cat "$WORK/api-a.pid")" "$WORK/api-a.log" served "$A" || true
wait_for 180 "$(cat "$WORK/api-b.pid")" "$WORK/api-b.log" served "$B" || true
sleep 5  # the instances warm their caches for the model version (Api:WarmUsers) right after start-up
check_services "at start-up (cache warm-up)"
served "$A" && served "$B" || { echo "the API instances do not serve the model; giving up" >&2; exit 1; }

# phase NUMBER NAME TITLE: runs faults.py NAME after both instances report Healthy; a phase that breaks (an exception)
# is recorded in meta and reported as not completed, and the campaign goes on.
phase() {
  case " $PHASES " in *" $1 "*) ;; *) return 0 ;; esac
  check_services "before phase $1"
  local name
  for name in a b; do
    wait_for 60 "$(cat "$WORK/api-$name.pid")" "$WORK/api-$name.log" healthy "http://127.0.0.1:$(port_of "$name")" ||
      echo "   (instance $name is not Healthy; going on)"
  done
  log "($1) $3"
  local code=0
  python3 -B "$BENCH_FAULTS/faults.py" "$2" 2>"$WORK/phase-$2.err" || code=$?
  if [ "$code" -ne 0 ]; then
    echo "   phase $1 broke (exit $code):"; tail -15 "$WORK/phase-$2.err" | sed 's/^/   /'
    echo "error_$2=exit $code: $(tail -1 "$WORK/phase-$2.err" | tr '|' '/')" >>"$RESULTS/meta"
  fi
  check_services "during phase $1 ($2)"
}
phase 1 dbkill "PostgreSQL killed under $((${WRITERS:-8})) writers, then restarted"
phase 2 freeze "PostgreSQL frozen (SIGSTOP) under cached reads and misses"
phase 3 refresher "the Refresher killed mid-build, then restarted"
phase 4 malformed "${MALFORMED_REQUESTS:-5000} malformed requests"
phase 5 duplicates "${DUP_CONCURRENCY:-40} concurrent POSTs of one event_id, ${DUP_ROUNDS:-5} rounds"
phase 6 admin "${ADMIN_ATTEMPTS:-2000} wrong-key and keyless admin requests, the operator alongside"
phase 7 soak "soak: $SOAK_DURATION of mixed reads and writes on both instances"
case " $PHASES " in
  *" 6 "*) log "(6) the API's aggregated warning for the admin failures (logged once a minute)"
           python3 -B "$BENCH_FAULTS/faults.py" adminlog 2>>"$WORK/phase-admin.err" || echo "   adminlog broke: $(tail -1 "$WORK/phase-admin.err")" ;;
esac

check_services "at the end"
elapsed=$((SECONDS - campaign_started))
echo "elapsed=$((elapsed / 60)) min $((elapsed % 60)) s" >>"$RESULTS/meta"
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$RESULTS/meta"
echo
echo "==== summary: paste into docs/RELIABILITY.md ===="
code=0
python3 -B "$BENCH_FAULTS/faults.py" summary "$RESULTS" | tee "$RESULTS/summary.md" || code=${PIPESTATUS[0]}
exit "$code"
