#!/usr/bin/env bash
# The scale curve (issue 18): for each synthetic size in SIZES (default "S L XL"), on its own fresh PostgreSQL cluster
# and redis-server (a temporary directory, deleted after the size), measures
#   seed        `RecApp.Refresher generate --size X --seed 42`: migrations, generation, binary COPY into PostgreSQL;
#   rebuild     the Refresher's start-up run of every job (as bench/load/stack.sh does it), each job's duration
#               (job_runs.duration_ms) and peak RSS (VmRSS polled every 0.5 s with the job job_runs says is running),
#               and the worker's VmHWM at the end;
#   snapshot    the model part tables' bytes (pg_total_relation_size) and rows: what an API instance loads;
#   publish-to-serve  an API started before the Refresher: from the moment the last part's commit is visible
#               (max(model_current.version) polled every 0.5 s) until that API answers with that model_version
#               (polled every 0.2 s; the Refresher announces on Redis, the API also polls model_current);
#   load-to-serve     a fresh API process: from its start until it answers a personalized list with model_version >= 1,
#               its RSS then, the cache-miss p95 (wrk -t1 -c4 -d10s bench/load/miss.lua after POST /admin/cache/clear)
#               and its RSS after the misses and after 25 s idle (the idle heap trim).
# Raw results go to BENCH_RESULTS (default bench/scale/results-<UTC date>): meta, and per size a directory with
# `result` (key=value), jobs.tsv, memory.tsv (every poll), snapshot.tsv and the logs. Prints a markdown table
# (bench/scale/plot.py --table) and draws bench/scale/scale-curve.svg from the sizes that completed (plot.py).
#
# Each size has a time limit for all its steps together: TIMEOUT_MINUTES (default 30 for XL, 10 otherwise). A step
# that fails or runs past it ends that size with a line naming the size and the step (for the rebuild: the job that
# was running, its elapsed time and the worker's RSS); the other sizes still run and are reported. Exit status 1 when
# any size failed.
#
# Run from a clone (it builds src/RecApp.Api and src/RecApp.Refresher in Release itself); on a shared machine:
#   nice -n 19 bench/scale/run.sh                 # S L XL
#   SIZES="tiny" nice -n 19 bench/scale/run.sh    # a quick check of the script
set -uo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
# shellcheck source=../../scripts/local-servers.sh
. scripts/local-servers.sh
bench_need wrk redis-server postgresql curl

SIZES=${SIZES:-"S L XL"}
BENCH_RESULTS=${BENCH_RESULTS:-bench/scale/results-$(date -u +%Y-%m-%d-%H%M)}
mkdir -p "$BENCH_RESULTS"
BENCH_RESULTS=$(cd "$BENCH_RESULTS" && pwd)
MODEL_TABLES="popular_items trending_items item_neighbors user_neighbors user_profiles item_embeddings"

now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }   # seconds from $1 to $2
kb_to_mb() { [ -n "${1:-}" ] && awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
proc_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null; }   # $1 = pid, $2 = VmRSS | VmHWM

{
  run_facts
  echo "memory_gb=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)"
  echo "nice=$(nice)"
  echo "sizes=$SIZES"
} >"$BENCH_RESULTS/meta"

log "Release build (src/RecApp.Api, src/RecApp.Refresher)"
for project in src/RecApp.Api src/RecApp.Refresher; do
  if ! dotnet build "$project" -c Release -v quiet -nologo >"$BENCH_RESULTS/build.log" 2>&1; then
    tail -30 "$BENCH_RESULTS/build.log"
    echo "FAILED: step build ($project), before any size; see $BENCH_RESULTS/build.log" >&2
    exit 1
  fi
done
REFRESHER=$ROOT/src/RecApp.Refresher/bin/Release/net10.0/RecApp.Refresher.dll
API=$ROOT/src/RecApp.Api/bin/Release/net10.0/RecApp.Api.dll

# One size, in a subshell (its own servers, processes and trap). Writes $OUT/result; exits 1 on the first failed step.
run_size() {
  local size=$1 limit_min
  case $size in XL) limit_min=${TIMEOUT_MINUTES:-30} ;; *) limit_min=${TIMEOUT_MINUTES:-10} ;; esac
  local deadline=$((SECONDS + limit_min * 60))
  OUT=$BENCH_RESULTS/$size
  rm -rf "$OUT" && mkdir -p "$OUT"
  WORK=$(mktemp -d /tmp/recapp-scale.XXXXXX)
  chmod 755 "$WORK"
  pids=()
  cleanup() {
    set +e
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    if [ -f "$WORK/redis.pid" ]; then kill "$(cat "$WORK/redis.pid")" 2>/dev/null; fi
    pg_stop "$WORK/pg" immediate
    rm -rf "$WORK"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  put() { echo "$1=$2" >>"$OUT/result"; }
  fail() {  # $1 = step, $2 = what happened
    put status failed; put failed_step "$1"; put failure "$2"
    echo "FAILED: size $size, step $1: $2" >&2
    exit 1
  }
  past_deadline() { [ "$SECONDS" -ge "$deadline" ]; }
  # Publish-to-serve of each version the running API has served so far (one per job: popular, profiles, similarities),
  # as "v2 4.7 s, v3 133.0 s": also written when the rebuild is cut short, so the parts published before count.
  served_by_version() {
    awk -F'\t' 'FNR == 1 { file++ } file == 1 { published[$2] = $1; order[++n] = $2; next }
                 $2 != "none" { for (k = 1; k <= n; k++) { v = order[k]; if (!(v in served) && $2 + 0 >= v + 0) served[v] = $1 } }
                 END { for (k = 1; k <= n; k++) { v = order[k]; if (v in served) printf "%sv%s %.1f s", (out++ ? ", " : ""), v, served[v] - published[v] } }' \
      "$OUT/published-versions.tsv" "$OUT/served-versions.tsv" 2>/dev/null
  }
  put size "$size"; put time_limit_min "$limit_min"

  PG_PORT=$(free_port) REDIS_PORT=$(free_port)
  log "$size: PostgreSQL and Redis in $WORK (ports $PG_PORT, $REDIS_PORT), time limit $limit_min min"
  { pg_create "$WORK/pg" && pg_start "$WORK/pg" "$PG_PORT" && pg_ensure_database "$PG_PORT" recdb && redis_start; } \
    >"$OUT/servers.log" 2>&1 || { cat "$OUT/servers.log" >&2; fail servers "could not start PostgreSQL or Redis"; }
  psql_() { psql -h 127.0.0.1 -p "$PG_PORT" -U recapp -d recdb -tAc "$1"; }
  export ConnectionStrings__recdb="Host=127.0.0.1;Port=$PG_PORT;Username=recapp;Database=recdb"
  export ConnectionStrings__redis="127.0.0.1:$REDIS_PORT"
  export DOTNET_ENVIRONMENT=Production ASPNETCORE_ENVIRONMENT=Production Logging__LogLevel__Default=Warning
  export Admin__ApiKey=perf-key RateLimiting__Enabled=false Api__WarmUsers=0

  # --- seed: migrations + generation + bulk load (one process; its peak RSS sampled every 0.5 s) ---
  log "$size: seed (generate --size $size --seed 42)"
  put load_seed "$(load_avg)"
  local t0 t1 pid hwm="" rss
  t0=$(now)
  dotnet "$REFRESHER" generate --size "$size" --seed 42 >"$OUT/generate.log" 2>&1 & pid=$!; pids+=("$pid")
  while kill -0 "$pid" 2>/dev/null; do
    rss=$(proc_kb "$pid" VmHWM); [ -n "$rss" ] && hwm=$rss
    past_deadline && fail seed "time limit of $limit_min min exceeded after $(elapsed "$t0" "$(now)") s ($(grep -o '[a-z]* *[0-9]*%' "$OUT/generate.log" | tail -1))"
    sleep 0.5
  done
  local code=0
  wait "$pid" || code=$?
  [ "$code" = 0 ] || { tail -20 "$OUT/generate.log" >&2; fail seed "generate exited with status $code (see $OUT/generate.log)"; }
  t1=$(now)
  put seed_s "$(elapsed "$t0" "$t1")"
  put seed_peak_mb "$(kb_to_mb "$hwm")"
  put items "$(psql_ 'SELECT count(*) FROM items')"
  put users "$(psql_ 'SELECT count(*) FROM users')"
  put interactions "$(psql_ 'SELECT count(*) FROM interactions')"
  put database_bytes "$(psql_ 'SELECT pg_database_size(current_database())')"
  grep -E 'Generated|Loaded' "$OUT/generate.log" | sed 's/\x1b\[[0-9;]*m//g' >"$OUT/generate.summary"

  # --- an API that is already running when the model is published (publish-to-serve) ---
  local early_port early url
  early_port=$(free_port)
  ASPNETCORE_URLS=http://127.0.0.1:$early_port dotnet "$API" >"$OUT/api-early.log" 2>&1 & early=$!; pids+=("$early")
  wait_for 120 "$early" "$OUT/api-early.log" curl -fs "http://127.0.0.1:$early_port/alive" || fail api-early "the API did not start"
  url="http://127.0.0.1:$early_port/users/123/recommendations?limit=20"
  (  # one line per model_version change seen by a client of that API
    last=""
    while :; do
      v=$(curl -s -m 5 "$url" | grep -o '"model_version":[0-9]*' | cut -d: -f2)
      if [ "${v:-none}" != "$last" ]; then printf '%s\t%s\n' "$(now)" "${v:-none}" >>"$OUT/served-versions.tsv"; last=${v:-none}; fi
      sleep 0.2
    done
  ) & pids+=($!)

  # --- rebuild: the Refresher's start-up run of every job ---
  log "$size: rebuild (the Refresher's start-up run of every job)"
  put load_rebuild "$(load_avg)"
  local refresher state running ok failed version last_version=0 job_hwm
  t0=$(now)
  Logging__LogLevel__Default=Information dotnet "$REFRESHER" >"$OUT/refresher.log" 2>&1 & refresher=$!; pids+=("$refresher")
  printf 'time\trss_kb\trunning_job\tmodel_version\n' >"$OUT/memory.tsv"
  while :; do
    state=$(psql_ "SELECT coalesce((SELECT string_agg(job, ',') FROM job_runs WHERE status = 'running'), '') || '|' ||
                          (SELECT count(*) FROM job_runs WHERE status = 'succeeded') || '|' ||
                          (SELECT count(*) FROM job_runs WHERE status = 'failed') || '|' ||
                          coalesce((SELECT max(version) FROM model_current), 0)" 2>/dev/null)
    IFS='|' read -r running ok failed version <<<"$state"
    rss=$(proc_kb "$refresher" VmRSS)
    job_hwm=$(proc_kb "$refresher" VmHWM)
    printf '%s\t%s\t%s\t%s\n' "$(now)" "${rss:-}" "${running:-}" "${version:-}" >>"$OUT/memory.tsv"
    if [ -n "${version:-}" ] && [ "$version" != "$last_version" ]; then
      printf '%s\t%s\n' "$(now)" "$version" >>"$OUT/published-versions.tsv"; last_version=$version
    fi
    [ "${ok:-0}" -ge 4 ] && break
    if [ "${failed:-0}" -gt 0 ]; then
      tail -20 "$OUT/refresher.log" >&2
      fail rebuild "job $(psql_ "SELECT string_agg(job || ': ' || coalesce(error, '?'), '; ') FROM job_runs WHERE status = 'failed'")"
    fi
    if ! kill -0 "$refresher" 2>/dev/null; then tail -20 "$OUT/refresher.log" >&2; fail rebuild "the Refresher exited (see $OUT/refresher.log)"; fi
    if past_deadline; then
      psql_ "SELECT job, status, duration_ms FROM job_runs ORDER BY id" >"$OUT/jobs-at-timeout.txt" 2>&1
      # Lower bounds for the curve (plot.py draws them as open markers): the rebuild so far, the running job so far.
      put rebuild_at_least_s "$(elapsed "$t0" "$(now)")"
      put timeout_job "${running:-none}"
      put timeout_job_elapsed_s "$(psql_ "SELECT round(extract(epoch FROM now() - min(started_at))) FROM job_runs WHERE status = 'running'")"
      put timeout_rss_mb "$(kb_to_mb "$rss")"
      put publish_to_serve_by_version "$(served_by_version)"
      put refresher_hwm_mb "$(kb_to_mb "$job_hwm")"
      while IFS=$'\t' read -r job ms; do put "job_${job}_s" "$(awk -v m="$ms" 'BEGIN { printf "%.1f", m / 1000 }')"; done \
        < <(psql_ "SELECT job, duration_ms FROM job_runs WHERE status = 'succeeded' ORDER BY id" | tr '|' '\t')
      for job in $(awk -F'\t' 'NR > 1 && $3 != "" { print $3 }' "$OUT/memory.tsv" | sort -u); do
        put "job_${job}_peak_mb" "$(kb_to_mb "$(awk -F'\t' -v j="$job" 'NR > 1 && $3 == j && $2 > m { m = $2 } END { print m }' "$OUT/memory.tsv")")"
      done
      fail rebuild "time limit of $limit_min min exceeded after $(elapsed "$t0" "$(now)") s of rebuild: job ${running:-none} running for $(psql_ "SELECT round(extract(epoch FROM now() - min(started_at))) FROM job_runs WHERE status = 'running'") s, worker RSS $(kb_to_mb "$rss") MB (VmHWM $(kb_to_mb "$job_hwm") MB); finished: $(psql_ "SELECT coalesce(string_agg(job || ' ' || round(duration_ms / 1000.0, 1) || ' s', ', ' ORDER BY id), 'none') FROM job_runs WHERE status = 'succeeded'")"
    fi
    sleep 0.5
  done
  t1=$(now)
  hwm=$(proc_kb "$refresher" VmHWM)
  kill "$refresher"; wait "$refresher" 2>/dev/null
  put rebuild_wall_s "$(elapsed "$t0" "$t1")"
  put rebuild_s "$(psql_ "SELECT round(extract(epoch FROM max(finished_at) - min(started_at))::numeric, 1) FROM job_runs WHERE status = 'succeeded'")"
  put refresher_hwm_mb "$(kb_to_mb "$hwm")"
  psql_ "SELECT job, duration_ms, coalesce(row_count, 0), coalesce(model_version, 0) FROM job_runs WHERE status = 'succeeded' ORDER BY id" |
    tr '|' '\t' >"$OUT/jobs.tsv"
  local job ms rows peak
  while IFS=$'\t' read -r job ms rows _; do
    peak=$(awk -F'\t' -v j="$job" 'NR > 1 && $3 == j && $2 > m { m = $2 } END { print m }' "$OUT/memory.tsv")
    put "job_${job}_s" "$(awk -v m="$ms" 'BEGIN { printf "%.1f", m / 1000 }')"
    put "job_${job}_peak_mb" "$(kb_to_mb "$peak")"
    put "job_${job}_rows" "$rows"
  done <"$OUT/jobs.tsv"
  grep -E 'Similarities:|Read [0-9]+ items|Job [a-z]+: built' "$OUT/refresher.log" >"$OUT/refresher.summary" 2>/dev/null

  # --- snapshot: the model part tables ---
  local table bytes total_bytes=0 total_rows=0
  printf 'table\tbytes\trows\n' >"$OUT/snapshot.tsv"
  for table in $MODEL_TABLES; do
    IFS='|' read -r bytes rows <<<"$(psql_ "SELECT pg_total_relation_size('$table'), count(*) FROM $table")"
    printf '%s\t%s\t%s\n' "$table" "$bytes" "$rows" >>"$OUT/snapshot.tsv"
    total_bytes=$((total_bytes + bytes)) total_rows=$((total_rows + rows))
  done
  put snapshot_bytes "$total_bytes"; put snapshot_rows "$total_rows"

  # --- publish-to-serve: the last part's commit seen in model_current -> the running API serves that version ---
  local final published served
  final=$(psql_ "SELECT max(version) FROM model_current")
  put model_version "$final"
  put last_switched_at "$(psql_ "SELECT max(switched_at) FROM model_current")"
  local serve_deadline=$((SECONDS + 120))
  until served=$(awk -F'\t' -v v="$final" '$2 != "none" && $2 + 0 >= v + 0 { print $1; exit }' "$OUT/served-versions.tsv" 2>/dev/null) && [ -n "$served" ]; do
    if [ "$SECONDS" -ge "$serve_deadline" ] || past_deadline || ! kill -0 "$early" 2>/dev/null; then break; fi
    sleep 0.2
  done
  published=$(awk -F'\t' -v v="$final" '$2 + 0 >= v + 0 { print $1; exit }' "$OUT/published-versions.tsv")
  if [ -n "$served" ] && [ -n "$published" ]; then
    put publish_to_serve_s "$(elapsed "$published" "$served")"
  else
    put publish_to_serve_s ""
    echo "note: size $size: the API started before the rebuild did not serve version $final within 120 s" >&2
  fi
  put publish_to_serve_by_version "$(served_by_version)"
  for p in "${pids[@]}"; do [ "$p" != "$refresher" ] && kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  pids=()
  past_deadline && fail publish-to-serve "time limit of $limit_min min exceeded"

  # --- load-to-serve: a fresh API process, then its RSS and the cache-miss p95 ---
  log "$size: API load-to-serve, RSS, cache-miss p95"
  redis-cli -p "$REDIS_PORT" flushall >/dev/null   # no list cached by the first API instance
  put load_api "$(load_avg)"
  local port api base
  port=$(free_port) base=http://127.0.0.1:$port
  t0=$(now)
  ASPNETCORE_URLS=$base dotnet "$API" >"$OUT/api.log" 2>&1 & api=$!; pids+=("$api")
  local api_deadline=$((SECONDS + 600))
  [ "$api_deadline" -gt "$deadline" ] && api_deadline=$deadline
  until curl -fs -m 10 "$base/users/123/recommendations?limit=20" 2>/dev/null | grep -q '"model_version":[1-9]'; do
    kill -0 "$api" 2>/dev/null || { tail -20 "$OUT/api.log" >&2; fail load-to-serve "the API exited (see $OUT/api.log)"; }
    [ "$SECONDS" -ge "$api_deadline" ] && fail load-to-serve "no personalized list with model_version >= 1 after $(elapsed "$t0" "$(now)") s (API RSS $(kb_to_mb "$(proc_kb "$api" VmRSS)") MB)"
    sleep 0.1
  done
  t1=$(now)
  put load_to_serve_s "$(elapsed "$t0" "$t1")"
  sleep 1
  put api_rss_mb "$(kb_to_mb "$(proc_kb "$api" VmRSS)")"
  curl -fs -m 10 -X POST -H 'X-Admin-Key: perf-key' "$base/admin/cache/clear" >/dev/null || fail cache-miss "POST /admin/cache/clear failed"
  wrk --timeout 10s -t1 -c4 -d10s -s "$ROOT/bench/load/miss.lua" "$base" >"$OUT/wrk-miss.txt" 2>&1 || fail cache-miss "wrk failed (see $OUT/wrk-miss.txt)"
  local result
  result=$(grep '^RESULT' "$OUT/wrk-miss.txt")
  put miss_p95_ms "$(sed -n 's/.* p95=\([0-9.]*\).*/\1/p' <<<"$result")"
  put miss_rps "$(sed -n 's/.*rps=\([0-9.]*\).*/\1/p' <<<"$result")"
  put miss_non2xx "$(sed -n 's/.*non2xx=\([0-9]*\).*/\1/p' <<<"$result")"
  put api_rss_after_miss_mb "$(kb_to_mb "$(proc_kb "$api" VmRSS)")"
  put api_hwm_mb "$(kb_to_mb "$(proc_kb "$api" VmHWM)")"
  # What an instance keeps once quiet: the idle heap trim (Memory:IdleTrimAfter, 10 s) returns the load's garbage.
  sleep 25
  put api_rss_idle_mb "$(kb_to_mb "$(proc_kb "$api" VmRSS)")"
  put status ok
  log "$size: done"
}

failed_sizes=()
for size in $SIZES; do
  ( run_size "$size" ) || failed_sizes+=("$size")
done
echo "load_end=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$BENCH_RESULTS/meta"

echo
python3 bench/scale/plot.py --table "$BENCH_RESULTS"
python3 bench/scale/plot.py "$BENCH_RESULTS" "${SCALE_SVG:-bench/scale/scale-curve.svg}" || echo "note: no curve drawn" >&2
echo "raw results: $BENCH_RESULTS"
if [ ${#failed_sizes[@]} -gt 0 ]; then
  echo "FAILED sizes: ${failed_sizes[*]} (the table shows why)" >&2
  exit 1
fi
