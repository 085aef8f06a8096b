-- wrk script for bench_web.py: counts 4xx/5xx answers across threads and prints one JSON line at the end.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  s4 = 0
  s5 = 0
end

function response(status, headers, body)
  if status >= 500 then
    s5 = s5 + 1
  elseif status >= 400 then
    s4 = s4 + 1
  end
end

function done(summary, latency, requests)
  local s4t, s5t = 0, 0
  for _, t in ipairs(threads) do
    s4t = s4t + t:get("s4")
    s5t = s5t + t:get("s5")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "timeouts": %d, "s4": %d, "s5": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.timeout, s4t, s5t))
end
