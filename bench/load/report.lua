-- Prints p50/p90/p95/p99 latency (wrk's --latency prints no p95) and one RESULT line that bench/load/probe.py reads:
-- req/s, percentiles and max in ms, requests, failures by kind (non2xx = non-2xx/3xx answers), and how many requests
-- took longer than SLOW_MS (default 250, the cache's hard timeout for a Redis wait).
local function slower_than(latency, total, threshold_us)
  if total == 0 or latency.max <= threshold_us then return 0 end
  -- Smallest percentile whose value exceeds the threshold, by bisection (wrk exposes no histogram walk that is cheap).
  local low, high = 0, 100
  for _ = 1, 40 do
    local mid = (low + high) / 2
    if latency:percentile(mid) > threshold_us then high = mid else low = mid end
  end
  return math.floor(total * (100 - high) / 100 + 0.5)
end

done = function(summary, latency, requests)
  for _, p in ipairs({50, 90, 95, 99}) do
    io.write(string.format("p%d %.2f ms\n", p, latency:percentile(p) / 1000))
  end
  local e = summary.errors
  local slow_ms = tonumber(os.getenv("SLOW_MS") or "250")
  io.write(string.format(
    "RESULT rps=%.1f p50=%.3f p95=%.3f p99=%.3f max=%.3f requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d slow=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests, e.status, e.connect, e.read, e.write, e.timeout,
    slower_than(latency, summary.requests, slow_ms * 1000)))
end
