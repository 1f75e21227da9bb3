-- wrk load for bench/faults/run.sh, one mode per run (environment variable FAULTS_MODE):
--   hit    the same cached list over and over (FAULTS_HIT_PATH, default /users/123/recommendations?limit=20)
--   miss   a user not asked for before on every request: users FAULTS_USER_OFFSET + thread * 25000 + n (mod FAULTS_USERS)
--   mixed  the soak: 60% cached reads (hot users 1..500), 10% misses, 10% POST /popular, 5% similar items, 15% writes
--          (POST /interactions, each with a unique event_id FAULTS_RUN-FAULTS_LABEL-thread-n); each connection waits
--          FAULTS_DELAY_MS between requests (wrk's delay()), so the rate is about connections * 1000 / delay per second.
--          Use one connection per thread (-tN -cN) so each answer is attributed to its kind.
-- The last line is RESULT rps=... p50=... p95=... p99=... max=... requests=... non2xx=... connect=... read=... write=...
-- timeout=... (ms), then, in mixed mode, ERRORS kind=count for the non-2xx answers by kind and class.
local mode = os.getenv("FAULTS_MODE") or "hit"
local hit_path = os.getenv("FAULTS_HIT_PATH") or "/users/123/recommendations?limit=20"
local users = tonumber(os.getenv("FAULTS_USERS") or "50000")
local items = tonumber(os.getenv("FAULTS_ITEMS") or "16000")
local offset = tonumber(os.getenv("FAULTS_USER_OFFSET") or "0")
local delay_ms = tonumber(os.getenv("FAULTS_DELAY_MS") or "0")
local run = os.getenv("FAULTS_RUN") or "run"
local label = os.getenv("FAULTS_LABEL") or "x"

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

-- Per thread (each thread has its own Lua state): counters read back in done().
counter = 0
last_kind = "none"
errors = ""
local error_counts = {}

function init(args)
  math.randomseed(os.time() * 100 + id * 7919 + #label)
end

local segments = {
  '{"user_params":{"gender":"f","age":"25-34"},"pagination":{"page":1,"limit":20}}',
  '{"user_params":{"gender":"m","age":"35-44","category":"electronics"}}',
  '{"user_params":{"age":"18-24"},"filters":{"price_from":0,"price_to":500}}',
  '{}',
}

local function get(path) return wrk.format("GET", path) end

request = function()
  counter = counter + 1
  if mode == "hit" then
    last_kind = "hit"
    return get(hit_path)
  elseif mode == "miss" then
    last_kind = "miss"
    local user = (offset + id * 25000 + counter) % users + 1
    return get("/users/" .. user .. "/recommendations?limit=20")
  end
  local r = math.random(100)
  if r <= 60 then
    last_kind = "hit"
    return get("/users/" .. math.random(500) .. "/recommendations?limit=20")
  elseif r <= 70 then
    last_kind = "miss"
    local user = (offset + id * 5000 + counter) % users + 1
    return get("/users/" .. user .. "/recommendations?limit=10&page=2")
  elseif r <= 80 then
    last_kind = "popular"
    return wrk.format("POST", "/popular", { ["Content-Type"] = "application/json" }, segments[math.random(#segments)])
  elseif r <= 85 then
    last_kind = "similar"
    return get("/items/" .. math.random(items) .. "/similar?limit=10")
  end
  last_kind = "write"
  local body = string.format('{"user_id":%d,"item_id":%d,"type":"view","event_id":"%s-%s-%d-%d"}',
    math.random(users), math.random(items), run, label, id, counter)
  return wrk.format("POST", "/interactions", { ["Content-Type"] = "application/json" }, body)
end

if mode == "mixed" then
  delay = function() return delay_ms end
  response = function(status, headers, body)
    if status >= 300 then
      local key = last_kind .. "_" .. math.floor(status / 100) .. "xx"
      error_counts[key] = (error_counts[key] or 0) + 1
      local parts = {}
      for k, v in pairs(error_counts) do table.insert(parts, k .. "=" .. v) end
      errors = table.concat(parts, " ")
    end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT rps=%.1f p50=%.3f p95=%.3f p99=%.3f max=%.3f requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, summary.requests, e.status, e.connect, e.read, e.write, e.timeout))
  local all = {}
  for _, thread in ipairs(threads) do
    local text = thread:get("errors")
    if text and text ~= "" then table.insert(all, text) end
  end
  io.write("ERRORS " .. table.concat(all, " ") .. "\n")
end
