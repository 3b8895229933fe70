-- wrk script of `make bench`: one request per line of a data file, round-robin.
--
--   wrk -s bench/wrk/rotate.lua http://127.0.0.1:8000 -- DATA_FILE [MEAN_THINK_MS]
--
-- A line is METHOD <tab> PATH <tab> TOKEN <tab> BODY (TOKEN and BODY may be empty; a BODY is
-- sent as JSON). A TOKEN `cookie=T` is sent as the web client's sign-in cookie instead of a
-- bearer token. Requests are formatted once, in init, so the load generator spends its time
-- on the network, not in Lua. Each thread starts at its own line. With MEAN_THINK_MS, every
-- connection waits an exponentially distributed think time (of that mean) after each answer
-- before it sends the next request: `make bench` paces the load to ~70% of saturation so.
-- done() prints one line `WRK_JSON {...}` that bench/load/loadgen.py parses.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
end

local prepared = {}
local position = 1
mean_think_ms = 0  -- global: paced.lua reads it

function init(args)
  local path = args[1]
  mean_think_ms = tonumber(args[2] or "0") or 0
  for line in io.lines(path) do
    local method, target, token, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t?(.*)$")
    if method ~= nil and method ~= "" then
      local headers = {}
      local cookie = token:match("^cookie=(.*)$")
      if cookie ~= nil then
        headers["Cookie"] = "townsquare_session=" .. cookie
      elseif token ~= "" then
        headers["Authorization"] = "Bearer " .. token
      end
      if body ~= nil and body ~= "" then
        headers["Content-Type"] = "application/json"
      else
        body = nil
      end
      prepared[#prepared + 1] = wrk.format(method, target, headers, body)
    end
  end
  if #prepared == 0 then
    error("no requests in " .. path)
  end
  local number = thread_number or 1
  position = (number * 7919) % #prepared + 1
  math.randomseed(number * 104729)
end

function request()
  local formatted = prepared[position]
  position = position % #prepared + 1
  return formatted
end

-- wrk decides at start whether a script paces (a global `delay`); paced.lua defines it.

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "bytes": %d, '
      .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"latency_us": {"mean": %.1f, "max": %d, "p50": %d, "p90": %d, "p99": %d, "p999": %d}}\n',
    summary.requests, summary.duration, summary.bytes,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9)
  ))
end
