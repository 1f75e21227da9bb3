-- The miss-heavy phase: every request a user not asked for before, in a scrambled order over all users of S
-- (USERS, default 50000), so misses hit every tier and every part of the model, not only low ids.
-- Thread n walks its own share of a permutation (multiplying by a prime coprime to USERS), so no user repeats until
-- a thread has made USERS / threads requests. Reporting comes from report.lua next to this file.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")

local users = tonumber(os.getenv("USERS") or "50000")
local stride = 7919 -- prime, and 50000 = 2^4 * 5^5 shares no factor with it
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  thread:set("share", math.floor(users / 2))
  table.insert(threads, thread)
end
local counter = 0
request = function()
  local n = id * share + counter
  counter = counter + 1
  local user = (n * stride) % users + 1
  return wrk.format("GET", "/users/" .. user .. "/recommendations?limit=20")
end
