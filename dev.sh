#!/usr/bin/env bash
# RecApp developer commands. Run ./dev.sh help for the list.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$PWD
DEV_DIR=$ROOT/.dev
PG_PORT=${RECAPP_PG_PORT:-55432}
REDIS_PORT=${RECAPP_REDIS_PORT:-56379}
API_URL=${RECAPP_API_URL:-http://127.0.0.1:5080}
CONFIGURATION=${RECAPP_CONFIGURATION:-Release}
SOLUTION=RecApp.Local.slnf   # everything but the AppHost, which needs the Aspire packages

log() { printf '\033[1m[dev]\033[0m %s\n' "$*"; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

pg_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  command -v pg_ctl >/dev/null && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

# Installs what a fresh Debian machine lacks: redis-server and the PostgreSQL server binaries.
ensure_tools() {
  local need=()
  command -v redis-server >/dev/null || need+=(redis-server)
  pg_bindir >/dev/null || need+=(postgresql)
  command -v curl >/dev/null || need+=(curl)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]} (Debian packages)"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  command -v dotnet >/dev/null || { echo "The .NET 10 SDK is required (dotnet on PATH)." >&2; exit 1; }
}

# Runs a PostgreSQL tool as the postgres user when we are root (the server refuses to run as root).
pg() {
  local tool=$1; shift
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$(pg_bindir)/$tool" "$@"; else "$(pg_bindir)/$tool" "$@"; fi
}

start_postgres() {
  local data=$DEV_DIR/pg/data
  mkdir -p "$DEV_DIR/pg"
  [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$DEV_DIR/pg"
  if [ ! -f "$data/PG_VERSION" ]; then
    log "creating a PostgreSQL cluster in $data"
    pg initdb -D "$data" --auth=trust -U recapp -E UTF8 --locale=C >/dev/null
  fi
  if ! pg pg_ctl -D "$data" status >/dev/null 2>&1; then
    pg pg_ctl -D "$data" -l "$DEV_DIR/pg/server.log" -w -t 30 \
      -o "-p $PG_PORT -k $DEV_DIR/pg -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  fi
  if ! pg psql -h 127.0.0.1 -p "$PG_PORT" -U recapp -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'recdb'" | grep -q 1; then
    pg createdb -h 127.0.0.1 -p "$PG_PORT" -U recapp recdb
  fi
  log "PostgreSQL on 127.0.0.1:$PG_PORT (database recdb)"
}

stop_postgres() {
  [ -f "$DEV_DIR/pg/data/PG_VERSION" ] && pg pg_ctl -D "$DEV_DIR/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}

start_redis() {
  mkdir -p "$DEV_DIR"
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
      --pidfile "$DEV_DIR/redis.pid" --logfile "$DEV_DIR/redis.log" --maxmemory 512mb --maxmemory-policy allkeys-lru
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
  log "Redis on 127.0.0.1:$REDIS_PORT"
}

stop_redis() { redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; }

# The same variables Aspire's WithReference injects.
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

cmd_run() {
  ensure_tools
  start_postgres
  start_redis
  export_connection_strings
  log "building the API and the Refresher ($CONFIGURATION)"
  # Only the two services: the tests and benchmarks are not needed to run, and building them doubles a cold start.
  dotnet build src/RecApp.Api -c "$CONFIGURATION" -v quiet -nologo >/dev/null
  dotnet build src/RecApp.Refresher -c "$CONFIGURATION" -v quiet -nologo >/dev/null
  local pids=()
  cleanup() {
    trap - INT TERM EXIT
    log "stopping"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    stop_redis
    stop_postgres
  }
  trap cleanup INT TERM EXIT
  export DOTNET_ENVIRONMENT=Development ASPNETCORE_ENVIRONMENT=Development
  export OTEL_SERVICE_NAME=refresher
  # Each runs from its project folder, as `dotnet run` would, so its appsettings*.json are the content root.
  (cd src/RecApp.Refresher && exec dotnet "bin/$CONFIGURATION/net10.0/RecApp.Refresher.dll") &
  pids+=($!)
  (cd src/RecApp.Api && OTEL_SERVICE_NAME=api ASPNETCORE_URLS=$API_URL exec dotnet "bin/$CONFIGURATION/net10.0/RecApp.Api.dll") &
  pids+=($!)
  for _ in $(seq 120); do
    curl -fs "$API_URL/health" >/dev/null 2>&1 && break
    sleep 0.5
  done
  log "API        $API_URL"
  log "Swagger UI $API_URL/swagger"
  log "Health     $API_URL/health"
  log "Ctrl-C stops everything"
  wait -n "${pids[@]}" || true
}

# Runs every test except the Aspire one (which needs Docker and the Aspire packages).
cmd_test() {
  ensure_tools
  local results
  results=$(mktemp -d)
  set +e
  dotnet test "$SOLUTION" -c "${RECAPP_TEST_CONFIGURATION:-Debug}" --blame-hang-timeout 5m \
    --logger "trx;LogFileName=results.trx" --results-directory "$results" "$@" 2>&1 | tee "$results/output.log"
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
  echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
  rm -rf "$results"
  return "$status"
}

cmd_help() {
  cat <<HELP
Usage: ./dev.sh <command>
  run     start PostgreSQL, Redis, the Refresher and the API locally (Ctrl-C stops all)
  test    run the test suite (every test but the Aspire one) against real PostgreSQL and Redis
  infra   start only PostgreSQL and Redis and print the connection strings
  stop    stop the PostgreSQL and Redis started by run/infra
HELP
}

case "${1:-help}" in
  run) shift; cmd_run "$@" ;;
  test) shift; cmd_test "$@" ;;
  infra) shift; cmd_infra "$@" ;;
  stop) stop_redis; stop_postgres ;;
  *) cmd_help ;;
esac
