-- wrk script of bench/webhook_load.py and bench/peer_scale.py: POSTs JSON bodies, each once,
-- from a file of lines "Header: value<TAB>...<TAB>body" (any number of headers, the body
-- last; thread i sends lines i, i+n, ...). A thread stops sending when its lines run out,
-- so a run is bounded in count; wrk itself ends after -d or on SIGINT, printing its figures.
-- Answers (200 or 201) carrying an id, a delivery's or a ticket's, are written to
-- $WRK_ACK_FILE for the bench to check against the database.
-- args: payload-file thread-count

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local function parse(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    fields[#fields + 1] = field
  end
  local headers = {["Content-Type"] = "application/json"}
  for k = 1, #fields - 1 do
    local name, value = fields[k]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  return wrk.format("POST", nil, headers, fields[#fields])
end

function init(args)
  local path, total = args[1], tonumber(args[2])
  queue = {}
  local i = 0
  for line in io.lines(path) do
    if i % total == id then
      queue[#queue + 1] = parse(line)
    end
    i = i + 1
  end
  sent = 0
  -- wrk calls request() of the first thread once before connecting, to check it: that
  -- call must not use up a line.
  checked = id ~= 0
  acked = {}
  refused = 0
  exhausted = 0
end

function request()
  if not checked then
    checked = true
    return queue[1] or ""
  end
  sent = sent + 1
  if sent > #queue then
    -- Every line was sent once: stop, and write nothing rather than send one twice.
    exhausted = 1
    wrk.thread:stop()
    return ""
  end
  return queue[sent]
end

function response(status, headers, body)
  if status == 200 or status == 201 then
    acked[#acked + 1] = body:match('"delivery": *(%d+)') or body:match('"id": *(%d+)') or "0"
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
