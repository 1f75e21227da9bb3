# The one way RecApp's scripts start local PostgreSQL and Redis servers (dev.sh, bench/load/run.sh,
# bench/faults/run.sh). The test fixtures (tests/RecApp.Tests/Infrastructure) and the AppHost's local mode start the
# same servers the same way from C#: initdb with trust auth for superuser recapp, UTF8, C locale, loopback only.
# Sourced, never run:  . "$ROOT/scripts/local-servers.sh"
#
#   bench_need TOOL...            installs the missing ones from Debian packages (wrk, hey, redis-server, postgresql),
#                                 waiting for another apt run's lock rather than failing
#   PG_BIN                        the newest installed PostgreSQL server's bin directory (set once sourced, if any)
#   as_postgres COMMAND...        runs COMMAND as the postgres user when we are root (the server refuses root)
#   free_port                     a free TCP port on 127.0.0.1
#   load_avg / log MESSAGE        the 1-minute load average; a "== MESSAGE (load average N)" line
#   run_facts                     key=value lines every result file starts with: date, commit (+changes when src or
#                                 bench differ from it), cores, load average at the start
#   wait_for SECONDS PID LOG CMD… polls CMD until it succeeds; fails with LOG's tail when PID exits or time is up
#   pg_create DIR PORT            initdb (trust, superuser recapp, UTF8, C locale) in DIR/data, owned by postgres
#   pg_start DIR PORT             starts that cluster on 127.0.0.1:PORT (socket in DIR, log DIR/server.log), waits
#   pg_running DIR                whether that cluster is up
#   pg_stop DIR [MODE]            stops it (MODE: fast, immediate; default immediate), quietly, if it exists
#   pg_ensure_database PORT NAME  creates database NAME on the cluster at 127.0.0.1:PORT unless it exists
#   redis_start [DIR] [PORT] [ARG…] redis-server on PORT (default $REDIS_PORT) without persistence, files in DIR
#                                 (default $WORK: redis.pid, redis.log), extra redis-server arguments after them

bench_need() {
  local missing=() tool
  for tool in "$@"; do
    case $tool in
      postgresql) [ -n "$(pg_bin)" ] || missing+=(postgresql) ;;
      *) command -v "$tool" >/dev/null || missing+=("$tool") ;;
    esac
  done
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get update -qq -o DPkg::Lock::Timeout=300 && apt-get install -y -qq -o DPkg::Lock::Timeout=300 "${missing[@]}" >/dev/null
  fi
  [ -n "${PG_BIN:-}" ] || PG_BIN=$(pg_bin)
}

# The newest Debian server package's bin directory, else wherever pg_ctl is on PATH; empty when there is none.
pg_bin() {
  if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    dirname "$(ls /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)"
  elif command -v pg_ctl >/dev/null; then
    dirname "$(command -v pg_ctl)"
  fi
}
PG_BIN=${PG_BIN:-$(pg_bin)}

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
load_avg() { cut -d' ' -f1 /proc/loadavg; }
log() { echo "== $* (load average $(load_avg))"; }
run_facts() {
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "commit=$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- src bench 2>/dev/null || echo '+changes')"
  echo "cpus=$(nproc)"
  echo "load_start=$(cut -d' ' -f1-3 /proc/loadavg)"
}

wait_for() {
  local deadline=$((SECONDS + $1)) pid=$2 log=$3; shift 3
  until "$@" >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "gave up waiting for: $*" >&2; tail -20 "$log" >&2; return 1
    fi
    sleep 0.5
  done
}

pg_create() {  # $1 = directory (made world-readable, handed to postgres), $2 = port (unused; for symmetry)
  mkdir -p "$1"
  chmod 755 "$1"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$1"
  as_postgres "$PG_BIN/initdb" -D "$1/data" --auth=trust -U recapp -E UTF8 --locale=C >/dev/null
}

pg_start() {  # $1 = directory given to pg_create, $2 = port
  as_postgres "$PG_BIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
    -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
}

pg_running() { [ -f "$1/data/PG_VERSION" ] && as_postgres "$PG_BIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1; }

pg_ensure_database() {  # $1 = port, $2 = database
  psql -h 127.0.0.1 -p "$1" -U recapp -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$2'" | grep -q 1 ||
    psql -h 127.0.0.1 -p "$1" -U recapp -d postgres -qc "CREATE DATABASE \"$2\""
}

pg_stop() {  # $1 = directory, $2 = mode (default immediate)
  [ -f "$1/data/PG_VERSION" ] || return 0
  as_postgres "$PG_BIN/pg_ctl" -D "$1/data" -m "${2:-immediate}" -w stop >/dev/null 2>&1 || true
}

redis_start() {
  local dir=${1:-$WORK} port=${2:-$REDIS_PORT}
  shift $(($# < 2 ? $# : 2))
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "$@"
  for _ in $(seq 100); do redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.05; done
  echo "redis-server did not start" >&2; return 1
}
