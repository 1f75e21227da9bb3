#!/usr/bin/env bash
# RecApp developer commands. Run ./dev.sh help for the list.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$PWD
DEV_DIR=$ROOT/.dev
PG_PORT=${RECAPP_PG_PORT:-55432}
REDIS_PORT=${RECAPP_REDIS_PORT:-56379}
SOLUTION=RecApp.sln
RESULTS_DIR=$ROOT/TestResults   # TRX reports and the console log of ./dev.sh test (git-ignored; CI collects it)

# shellcheck source=scripts/local-servers.sh
. "$ROOT/scripts/local-servers.sh"
log() { printf '\033[1m[dev]\033[0m %s\n' "$*"; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Installs what a fresh Debian machine lacks: redis-server, the PostgreSQL server binaries, and chromium (the console's
# browser tests drive /usr/bin/chromium through Playwright, whose own browser download does not work). Another apt/dpkg
# run (unattended upgrades, a parallel job) may hold the lock: wait for it, up to 10 minutes, instead of failing.
ensure_tools() {
  local need=()
  command -v redis-server >/dev/null || need+=(redis-server)
  [ -n "${PG_BIN:-}" ] || need+=(postgresql)
  command -v curl >/dev/null || need+=(curl)
  [ -x /usr/bin/chromium ] || need+=(chromium)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]} (Debian packages)"
    as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
  fi
  command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet on PATH)." >&2; exit 1; }
  [ -n "${PG_BIN:-}" ] || PG_BIN=$(pg_bin)
}

start_postgres() {
  mkdir -p "$DEV_DIR"
  if [ ! -f "$DEV_DIR/pg/data/PG_VERSION" ]; then
    log "creating a PostgreSQL cluster in $DEV_DIR/pg/data"
    pg_create "$DEV_DIR/pg"
  fi
  pg_running "$DEV_DIR/pg" || pg_start "$DEV_DIR/pg" "$PG_PORT"
  pg_ensure_database "$PG_PORT" recdb
  log "PostgreSQL on 127.0.0.1:$PG_PORT (database recdb)"
}

stop_postgres() { pg_stop "$DEV_DIR/pg" fast; }

start_redis() {
  mkdir -p "$DEV_DIR"
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || redis_start "$DEV_DIR" "$REDIS_PORT" --maxmemory 512mb --maxmemory-policy allkeys-lru
  log "Redis on 127.0.0.1:$REDIS_PORT"
}

stop_redis() { redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; }

# The same variables the AppHost's WithReference injects.
export_connection_strings() {
  export ConnectionStrings__recdb="Host=127.0.0.1;Port=$PG_PORT;Username=recapp;Database=recdb"
  export ConnectionStrings__redis="127.0.0.1:$REDIS_PORT"
}

cmd_infra() {
  ensure_tools
  start_postgres
  start_redis
  export_connection_strings
  echo "export ConnectionStrings__recdb=\"$ConnectionStrings__recdb\""
  echo "export ConnectionStrings__redis=\"$ConnectionStrings__redis\""
}

# The whole application through the Aspire AppHost (http profile): PostgreSQL and Redis (containers when a container
# runtime answers, local processes otherwise), the migration step, the Refresher, two API replicas behind
# http://127.0.0.1:5080, and the dashboard. The AppHost prints the dashboard's login URL; Ctrl-C stops everything.
cmd_run() {
  ensure_tools
  log "starting the AppHost; the dashboard login URL follows, the API answers on http://127.0.0.1:5080"
  exec dotnet run --project src/RecApp.AppHost --launch-profile http -- "$@"
}

# Runs every test of the solution, the Aspire tests (which start the AppHost) included. Reports stay in TestResults/.
cmd_test() {
  ensure_tools
  local results=$RESULTS_DIR
  rm -rf "$results"
  mkdir -p "$results"
  set +e
  # One TRX per test project (a fixed LogFileName would let the second overwrite the first).
  # -m:1: one test assembly at a time. Side by side, the AppHost's replicas and the other tests' servers pick free
  # ports at the same moment and can collide, and the two cores would be shared by both suites.
  dotnet test "$SOLUTION" -m:1 -c "${RECAPP_TEST_CONFIGURATION:-Debug}" --blame-hang-timeout 5m \
    --logger "trx;LogFilePrefix=results" --results-directory "$results" "$@" 2>&1 | tee "$results/output.log"
  local status=${PIPESTATUS[0]}
  set -e
  # One plain summary line: "N passed, N failed, N skipped".
  local counts
  counts=$(awk '/(Passed|Failed)!? +- +Failed:/ {
      for (i = 1; i <= NF; i++) {
        if ($i == "Failed:")  f += $(i + 1)
        if ($i == "Passed:")  p += $(i + 1)
        if ($i == "Skipped:") s += $(i + 1)
      }
    } END { printf "%d %d %d", p, f, s }' FS='[ ,]+' "$results/output.log")
  local passed failed skipped
  read -r passed failed skipped <<<"$counts"
  # Skipped tests with their reasons (the console's default verbosity shows only their names).
  awk '/<UnitTestResult / { skipped = 0; if ($0 ~ /outcome="NotExecuted"/) { skipped = 1; match($0, /testName="[^"]*"/);
                                                                            name = substr($0, RSTART + 10, RLENGTH - 11) } }
       skipped && /<Message>/ { m = $0; sub(/.*<Message>/, "", m); sub(/<\/Message>.*/, "", m);
                                s = "skipped: " name ": " m; gsub(/&quot;/, "\"", s); gsub(/&amp;/, "\\&", s); print s; skipped = 0 }' \
    "$results"/*.trx 2>/dev/null
  echo "TRX reports and the console log: ${results#"$ROOT"/}/"
  # Alone on its line, so CI can read it.
  echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
  return "$status"
}

cmd_help() {
  cat <<HELP
Usage: ./dev.sh <command>
  run     install what is missing, then run the AppHost: the whole application and the Aspire dashboard
          (Ctrl-C stops all; extra arguments go to the AppHost, e.g. --Infrastructure:Mode=LocalProcesses)
  test    run every test, the Aspire ones included, against real PostgreSQL and Redis (reports in TestResults/)
  setup   only install what is missing (PostgreSQL server, redis-server)
  infra   start plain PostgreSQL and Redis on fixed ports and print the connection strings (benchmarks)
  stop    stop the PostgreSQL and Redis started by infra
HELP
}

case "${1:-help}" in
  run) shift; cmd_run "$@" ;;
  setup) ensure_tools ;;
  test) shift; cmd_test "$@" ;;
  infra) shift; cmd_infra "$@" ;;
  stop) stop_redis; stop_postgres ;;
  *) cmd_help ;;
esac
