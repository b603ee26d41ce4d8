-- wrk script for bench/catalog_latency.py (run by it; not meant to be used by hand).
--
--   wrk ... -s bench/catalog.lua http://127.0.0.1:PORT -- PATHS_FILE CLIENT_IPS
--
-- PATHS_FILE   one request path per line (for example /api/v1/agents/?search=whale); every
--              thread walks the list from its own offset, so consecutive requests rotate terms.
-- CLIENT_IPS   size of the pool of X-Forwarded-For addresses (10.x.y.z) the requests rotate
--              through, so the API's per-client anonymous throttle sees many clients of ordinary
--              request rates instead of one loopback client doing everything (0 = header off).
--
-- Every response that is not a 200 is counted (per status) and reported; done() prints one line
-- "WRKJSON {...}" with the counts and the latency distribution in microseconds.

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  if #paths == 0 then
    error("no request paths in " .. tostring(args[1]))
  end
  ip_pool = tonumber(args[2]) or 0
  -- Threads start at different places in both rotations.
  next_path = ((thread_id - 1) * 7) % #paths
  next_ip = (thread_id - 1) * 7919
  non200 = 0
  codes = ""
  code_counts = {}
end

function request()
  next_path = next_path % #paths + 1
  local headers = nil
  if ip_pool > 0 then
    next_ip = (next_ip + 1) % ip_pool
    headers = {
      ["X-Forwarded-For"] = string.format(
        "10.%d.%d.%d", math.floor(next_ip / 65536) % 256, math.floor(next_ip / 256) % 256, next_ip % 256
      ),
    }
  end
  return wrk.format("GET", paths[next_path], headers)
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    code_counts[status] = (code_counts[status] or 0) + 1
    -- Kept as a string: thread:get() copies plain values between Lua states.
    local parts = {}
    for code, count in pairs(code_counts) do
      parts[#parts + 1] = string.format("%d:%d", code, count)
    end
    codes = table.concat(parts, ",")
  end
end

function done(summary, latency, requests)
  local total_non200 = 0
  local merged = {}
  for _, thread in ipairs(threads) do
    total_non200 = total_non200 + (thread:get("non200") or 0)
    local text = thread:get("codes") or ""
    for code, count in string.gmatch(text, "(%d+):(%d+)") do
      merged[code] = (merged[code] or 0) + tonumber(count)
    end
  end
  local parts = {}
  for code, count in pairs(merged) do
    parts[#parts + 1] = string.format('"%s":%d', code, count)
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,'
      .. '"non200":%d,"status_counts":{%s},'
      .. '"latency_us":{"min":%.1f,"mean":%.1f,"stdev":%.1f,"max":%.1f,'
      .. '"p50":%.1f,"p90":%.1f,"p95":%.1f,"p99":%.1f,"p999":%.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    total_non200, table.concat(parts, ","),
    latency.min, latency.mean, latency.stdev, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency:percentile(99.9)
  ))
end
