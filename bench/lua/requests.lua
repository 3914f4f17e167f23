-- Generic wrk script: every request is a random line of a requests file.
--
--   wrk -t2 -c32 -d10s -s bench/lua/requests.lua http://127.0.0.1:9080 -- FILE
--
-- FILE has one request per line, tab-separated: METHOD, PATH, TOKEN ("-" for none),
-- BODY ("-" for none; JSON). At the end a single line `BENCH_JSON {...}` carries the
-- figures bench/bench.py reads: latency percentiles in microseconds, requests,
-- duration, and wrk's error counters (status = responses with a status above 399).

local lines = {}
local counter = 0
local threads = {}

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  return fields
end

function setup(thread)
  counter = counter + 1
  thread:set("thread_id", counter)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  local file = assert(io.open(path, "r"), "cannot open " .. tostring(path))
  for line in file:lines() do
    if #line > 0 then
      local f = split(line)
      local headers = {}
      if f[3] and f[3] ~= "-" then
        headers["Authorization"] = "Bearer " .. f[3]
      end
      local body = nil
      if f[4] and f[4] ~= "-" then
        body = f[4]
        headers["Content-Type"] = "application/json"
      end
      lines[#lines + 1] = wrk.format(f[1], f[2], headers, body)
    end
  end
  file:close()
  assert(#lines > 0, "no requests in " .. path)
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  status_counts = {}
end

function request()
  return lines[math.random(#lines)]
end

function response(status, headers, body)
  status_counts[status] = (status_counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local statuses = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("status_counts")
    if counts then
      for code, n in pairs(counts) do
        statuses[code] = (statuses[code] or 0) + n
      end
    end
  end
  local parts = {}
  for code, n in pairs(statuses) do
    parts[#parts + 1] = string.format('"%d": %d', code, n)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"statuses": {%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(parts, ", ")))
end
