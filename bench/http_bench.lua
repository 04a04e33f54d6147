-- wrk script for scripts/bench: `wrk ... -s bench/http_bench.lua URL -- MODE KEY RUN_ID`
--   MODE healthz  GET the URL, no authentication (the in-process reference)
--   MODE me       GET the URL with Authorization: Bearer KEY
--   MODE post     POST a record_external_event body with a unique external id per request
--                 (RUN_ID, wrk thread number and a counter), Authorization: Bearer KEY
-- done() prints one JSON line starting with {"wrk": for scripts/bench to pick up.

local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("tid", thread_count)
end

local mode, key, run_id
local counter = 0
local occurred_at = os.date("!%Y-%m-%dT%H:%M:%SZ")

function init(args)
  mode = args[1] or "healthz"
  key = args[2] or ""
  run_id = args[3] or "run"
  if mode ~= "healthz" then
    wrk.headers["Authorization"] = "Bearer " .. key
  end
  if mode == "post" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
end

local body_format = '{"source":"bench","type":"call.ended","external_id":"%s-%d-%d",' ..
  '"occurred_at":"%s","payload":{"agent":"agent-17","duration_s":42,' ..
  '"outcome":"promise_to_pay","queue":"collections"}}'

function request()
  if mode ~= "post" then
    return wrk.request()
  end
  counter = counter + 1
  local body = string.format(body_format, run_id, tid, counter, occurred_at)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"wrk":true,"requests":%d,"duration_us":%d,"bytes":%d,"errors_connect":%d,' ..
    '"errors_read":%d,"errors_write":%d,"errors_status":%d,"errors_timeout":%d,' ..
    '"p50_ms":%.3f,"p90_ms":%.3f,"p99_ms":%.3f,"max_ms":%.3f,"mean_ms":%.3f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status,
    e.timeout, latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000, latency.mean / 1000))
end
