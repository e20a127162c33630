-- wrk script: GET /api/me with a different bearer token on each request, from a file of tokens
-- (one per line), passed after `--` with the thread count n. Thread k of n takes tokens k, k+n, k+2n, ... so threads
-- never share a token; `done` prints one JSON line of figures.
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  tokens = {}
  local n, count = 0, tonumber(args[2]) or 1
  for line in io.lines(args[1]) do
    if n % count == id then
      table.insert(tokens, "Bearer " .. line)
    end
    n = n + 1
  end
  index = 0
end

function request()
  index = index % #tokens + 1
  return wrk.format("GET", "/api/me", { Authorization = tokens[index] })
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"socket_errors":%d,"non_2xx":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
