-- wrk script for bench/run.mjs: the bearer token from the environment (never on the command
-- line), a bound on the number of responses per thread (WRK_MAX_REQUESTS; wrk's -d bounds the
-- time), and one JSON line with every figure at the end.
local token = os.getenv("WRK_BEARER") or ""
local max = tonumber(os.getenv("WRK_MAX_REQUESTS") or "0") or 0
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Accept"] = "application/json"

local count = 0
function response(status, headers, body)
  count = count + 1
  if max > 0 and count >= max then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local p = function(q) return latency:percentile(q) end
  io.write(string.format(
    'WRK_JSON {"duration_us":%d,"requests":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"min":%d,"mean":%.1f,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d,"max":%d}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.stdev, p(50), p(90), p(99), p(99.9), latency.max))
end
