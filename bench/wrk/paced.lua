-- rotate.lua with a think time: each connection waits an exponentially distributed time of
-- mean MEAN_THINK_MS (the second script argument) after every answer before its next request.
-- wrk times a request from when it is sent, so the think time is not in the latency figures.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "rotate.lua")

function delay()
  -- 1 - random() is in (0, 1]: the logarithm is finite. Capped at 4 s: the server closes a
  -- connection idle for 5 s, which wrk would count as a read error.
  return math.min(-math.log(1 - math.random()) * mean_think_ms, 4000)
end
