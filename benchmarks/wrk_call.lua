-- One SageMaker operation under load. Arguments: target, JSON body, (unused), and a prefix
-- for client tokens. A body containing "%TOKEN%" gets a fresh ClientToken on every request,
-- as SDKs send; "%IMAGE%" becomes one of 64 image names in turn (bench-many-0 to 63).
local counter = 0
local MANY_IMAGES = 64
thread_id = 0
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-amz-json-1.1"
  wrk.headers["X-Amz-Target"] = "SageMaker." .. args[1]
  wrk.body = args[2]
  templated = string.find(wrk.body, "%%TOKEN%%") ~= nil
      or string.find(wrk.body, "%%IMAGE%%") ~= nil
  prefix = args[4] or tostring(os.time())
end

function request()
  if templated then
    counter = counter + 1
    local token = string.format("%s-%d-%d", prefix, thread_id, counter)
    local body = string.gsub(wrk.body, "%%TOKEN%%", token)
    body = string.gsub(body, "%%IMAGE%%", "bench-many-" .. (counter % MANY_IMAGES))
    return wrk.format(nil, nil, nil, body)
  end
  return wrk.request()
end

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("HTTP " .. status .. ": " .. body .. "\n")
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"non2xx":%d,"socket_errors":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
