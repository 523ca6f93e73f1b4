-- wrk script for bench/create_vs_helpdesk.py: Switchboard's create, the same shape as bench/api_ingest.py.
-- MODE (env): create  = POST /api/v1/interactions/ with SB_KEY (70 % existing customers of SB_CUSTOMERS, 30 % new)
--             ceiling = POST /ingest of bench/ceiling_app.py (no auth)
--             list    = GET of the URL given (the queue list, ?status=queued) with SB_KEY
local mode = os.getenv("MODE") or "create"
local customers = tonumber(os.getenv("SB_CUSTOMERS") or "200000")
local channels = {"voice", "email", "chat", "sms", "social"}
local counter = 0
local thread_tag = ""
local threads = {}

function setup(thread)
  thread:set("tag", string.format("%d", #threads))
  table.insert(threads, thread)
end

function init(args)
  thread_tag = (tag or "0") .. string.format("%x", os.time())
  math.randomseed(os.time() + tonumber(tag or "0"))
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
if mode == "create" or mode == "list" then
  wrk.headers["Authorization"] = "Bearer " .. os.getenv("SB_KEY")
end
if mode == "list" then
  wrk.method = "GET"
  wrk.headers["Content-Type"] = nil
end

request = function()
  counter = counter + 1
  if mode == "list" then
    return wrk.format()
  end
  local channel = channels[math.random(#channels)]
  if mode == "ceiling" then
    return wrk.format(nil, nil, nil, string.format(
      '{"channel": "%s", "subject": "Benchmark contact", "body": "Hello"}', channel))
  end
  local address, name
  if math.random() < 0.7 then
    local n = math.random(customers)
    address, name = string.format("bench%d@example.com", n), string.format("Bench Customer %d", n)
  else
    address, name = string.format("new-%s-%d@example.com", thread_tag, counter), "New"
  end
  local priorities = {1, 2, 2, 2, 3}
  return wrk.format(nil, nil, nil, string.format(
    '{"channel": "%s", "customer_identity": {"channel": "email", "address": "%s", "name": "%s"}, ' ..
    '"subject": "Benchmark contact", "body": "Hello, I need help with my account.", "priority": %d}',
    channel, address, name, priorities[math.random(#priorities)]))
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_s": %.3f, "rps": %.2f, "p50_ms": %.2f, "p90_ms": %.2f, ' ..
    '"p99_ms": %.2f, "max_ms": %.2f, "err_connect": %d, "err_read": %d, "err_write": %d, ' ..
    '"err_timeout": %d, "non2xx3xx": %d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, e.connect, e.read, e.write, e.timeout, e.status))
end
