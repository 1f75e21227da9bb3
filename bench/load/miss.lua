-- Each request asks for a user not asked for before in this run (users 1..50000): every request is a cache miss.
-- Thread n starts at user n * 25000 + 1, so use -t1 or -t2. Reporting comes from report.lua next to this file.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

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
