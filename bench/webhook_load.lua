-- wrk script of bench/webhook_load.py: POSTs signed deliveries, each once, from a file of
-- "signature<TAB>body" lines (thread i sends lines i, i+n, ...). A thread stops when its
-- lines run out, so a run is bounded in count as well as by wrk's -d. Answers carrying a
-- delivery id are written to $WRK_ACK_FILE for the bench to check against the database.
-- args: payload-file thread-count

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path, total = args[1], tonumber(args[2])
  queue = {}
  local i = 0
  for line in io.lines(path) do
    if i % total == id then
      local tab = line:find("\t", 1, true)
      queue[#queue + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["X-Caremgr-Signature"] = line:sub(1, tab - 1),
      }, line:sub(tab + 1))
    end
    i = i + 1
  end
  sent = 0
  acked = {}
  refused = 0
  exhausted = 0
end

function request()
  sent = sent + 1
  if sent > #queue then
    -- Every line was sent once: stop rather than send one twice.
    exhausted = 1
    wrk.thread:stop()
    return queue[#queue]
  end
  return queue[sent]
end

function response(status, headers, body)
  if status == 200 then
    acked[#acked + 1] = body:match('"delivery": *(%d+)') or "0"
  else
    refused = refused + 1
  end
end

function done(summary, latency, requests)
  local out = io.open(os.getenv("WRK_ACK_FILE") or "/dev/null", "w")
  local n, bad, ex = 0, 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("refused")
    ex = ex + t:get("exhausted")
    for _, pk in ipairs(t:get("acked")) do
      out:write(pk, "\n")
      n = n + 1
    end
  end
  out:close()
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d acked=%d refused=%d exhausted=%d errors=%d\n",
    summary.requests, summary.duration, n, bad, ex,
    e.connect + e.read + e.write + e.timeout))
  io.write(string.format("LATENCY p50=%d p95=%d p99=%d max=%d mean=%.0f\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
