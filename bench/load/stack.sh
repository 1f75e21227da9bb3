# The stack the load scripts run on (sourced by bench/load/run.sh, memory.sh, warm-up.sh, miss-floor.sh and
# engine-phases.sh, never run): its own PostgreSQL cluster and redis-server on free loopback ports in a temporary
# directory, migrations and the S dataset (seed 42), the model from the Refresher's start-up run, and the Release API,
# started per instance with api_start. Knobs it owns: API_LOG_LEVEL (the services' log level, default Warning) and
# ROUND_SECONDS (one round of the side-by-side scripts, default 6 s).
# Sets: BENCH_LOAD, the working directory (the repository root), WORK, RESULTS (meta holds the run's facts), PG_PORT,
# REDIS_PORT, A_PORT, B_PORT, A, B, PG_PID, REDIS_PID, pids (stopped on exit), psql_, api_start PORT,
# api_variant NAME COMMAND…, wrk_, and cpu.sh's cpu_ticks and cpu_per_request.
BENCH_LOAD=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$BENCH_LOAD/../.."
# shellcheck source=../../scripts/local-servers.sh
. scripts/local-servers.sh
API_LOG_LEVEL=${API_LOG_LEVEL:-Warning}
ROUND_SECONDS=${ROUND_SECONDS:-6}
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
  run_facts
  echo "log_level=$API_LOG_LEVEL"
} >"$RESULTS/meta"

log "PostgreSQL and Redis in $WORK (ports $PG_PORT, $REDIS_PORT)"
pg_create "$WORK/pg"
pg_start "$WORK/pg" "$PG_PORT"
pg_ensure_database "$PG_PORT" recdb
redis_start
# What cpu_ticks (cpu.sh) and cpu-per-request.sh count as PostgreSQL and Redis; a script that restarts Redis sets REDIS_PID again.
# shellcheck source=cpu.sh
. "$BENCH_LOAD/cpu.sh"
PG_PID=$(head -1 "$WORK/pg/data/postmaster.pid") REDIS_PID=$(cat "$WORK/redis.pid")
export PG_PID REDIS_PID
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

# The Refresher keeps running (its schedule pushed past the run) so that model_rebuild can ask it for a second build,
# which keeps the first build's tuning choices (Recommendations:Tuning:KeepFor), as every later build of the same process does.
log "model: the Refresher's start-up run of every job"
Refresher__PopularItemsRefreshInterval=1.00:00:00 Refresher__UserProfilesRefreshInterval=1.00:00:00 \
  Refresher__SimilaritiesRefreshInterval=1.00:00:00 Refresher__CleanupInterval=1.00:00:00 \
  dotnet "$REFRESHER" >"$WORK/refresher.log" 2>&1 & refresher=$!; pids+=("$refresher")
echo "load_model=$(load_avg)" >>"$RESULTS/meta"
jobs_done() { [ "$(psql_ "SELECT count(*) FROM job_runs WHERE status = 'succeeded'" 2>/dev/null || echo 0)" -ge "$1" ]; }
# $1 = the first job_runs id of a build, $2 = its name in the meta file
build_facts() {
  psql_ "SELECT job || ': ' || duration_ms || ' ms' FROM job_runs WHERE status = 'succeeded' AND id >= $1 ORDER BY id"
  echo "$2_s=$(psql_ "SELECT round(extract(epoch FROM max(finished_at) - min(started_at))::numeric, 1) FROM job_runs WHERE id >= $1")" >>"$RESULTS/meta"
  echo "$2_jobs=$(psql_ "SELECT string_agg(job || ' ' || round(duration_ms / 1000.0, 1) || ' s', ', ' ORDER BY id) FROM job_runs WHERE id >= $1")" >>"$RESULTS/meta"
}
wait_for 600 "$refresher" "$WORK/refresher.log" jobs_done 4
build_facts 0 model_build

# A rebuild of every part, as a schedule runs it, asked for through the API (POST /admin/refresh/all, the operator's route): it reads
# the data again (run it later than Store:DatasetReuseWindow after the first build) and keeps the first build's tuning.
model_rebuild() {
  local first
  first=$(psql_ "SELECT coalesce(max(id), 0) + 1 FROM job_runs")
  echo "load_rebuild=$(load_avg)" >>"$RESULTS/meta"
  curl -fs -X POST -H "X-Admin-Key: $Admin__ApiKey" "$A/admin/refresh/all" >/dev/null
  wait_for 600 "$refresher" "$WORK/refresher.log" jobs_done 8
  build_facts "$first" model_rebuild
}

api_start() {  # $1 = port; answers once it serves a personalized list from the model
  ASPNETCORE_URLS=http://127.0.0.1:$1 dotnet "$API" >"$WORK/api-$1.log" 2>&1 & pids+=($!)
  echo $! >"$WORK/api-$1.pid"
  wait_for 120 "$!" "$WORK/api-$1.log" sh -c "curl -fs http://127.0.0.1:$1/users/123/recommendations?limit=20 | grep -q '\"model_version\":[1-9]'"
}
# A variant of the API for a side-by-side run: the working tree's tracked files copied to $WORK/$1, changed there by the
# command that follows (run in the copy, with this function's stdin), then built in Release. Prints the variant's API
# dll for API=…; fails when the change or the build does.
api_variant() {
  local dir=$WORK/$1
  shift
  mkdir -p "$dir"
  git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$dir"
  (cd "$dir" && "$@") >&2 || return 1
  dotnet build "$dir/src/RecApp.Api" -c Release -v quiet -nologo >"$dir.build.log" 2>&1 || { cat "$dir.build.log" >&2; return 1; }
  echo "$dir/src/RecApp.Api/bin/Release/net10.0/RecApp.Api.dll"
}
wrk_() { wrk --timeout 10s -s "$BENCH_LOAD/report.lua" "$@"; }   # prints, and its last line is RESULT ...
