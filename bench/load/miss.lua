-- Each request asks for a user not asked for before in this run (users 1..50000): every request is a cache miss.
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
local counter = 0
request = function()
  counter = counter + 1
  local user = (id * 25000 + counter) % 50000 + 1
  return wrk.format("GET", "/users/" .. user .. "/recommendations?limit=20")
end
done = function(summary, latency, requests)
  for _, p in ipairs({50, 90, 95, 99}) do
    io.write(string.format("p%d %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
