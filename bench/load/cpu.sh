# CPU accounting for the load scripts (sourced by cpu-per-request.sh and stack.sh, never run), in ticks of 1/CLK_TCK s:
#   cpu_ticks API_PID                     prints "machine api postgres redis": the machine's busy time over every core
#                                         (/proc/stat user, nice, system, irq and softirq; not idle, iowait or the
#                                         hypervisor's steal), the API process, PostgreSQL (PG_PID: the postmaster and
#                                         its processes) and Redis (REDIS_PID); 0 for one not given
#   cpu_per_request BEFORE AFTER REQUESTS prints "machine=… api=… postgres=… redis=… rest=…", µs per request between two
#                                         cpu_ticks lines (rest: wrk, the kernel's threads, anything else running)
# On two cores the machine serves at most 2,000,000 / machine µs requests per second.

process_ticks() { local total=0 pid; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0))); done; echo "$total"; }

cpu_ticks() {
  local postgres=0 redis=0
  if [ -n "${PG_PID:-}" ]; then
    # shellcheck disable=SC2046  # one pid per word
    postgres=$(process_ticks "$PG_PID" $(pgrep -P "$PG_PID"))
  fi
  [ -n "${REDIS_PID:-}" ] && redis=$(process_ticks "$REDIS_PID")
  echo "$(awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat) $(process_ticks "$1") $postgres $redis"
}

cpu_per_request() {
  local -a before after
  read -ra before <<<"$1"
  read -ra after <<<"$2"
  local us=$((1000000 / $(getconf CLK_TCK))) requests=$3 names=(machine api postgres redis) i value line="" rest=0
  for i in 0 1 2 3; do
    value=$(( (after[i] - before[i]) * us / requests ))
    line+="${names[i]}=$value "
    if [ "$i" = 0 ]; then rest=$value; else rest=$((rest - value)); fi
  done
  echo "${line}rest=$rest"
}
