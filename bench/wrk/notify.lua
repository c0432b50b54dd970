-- wrk script for bench/versus.sh: every request is a distinct, pre-signed provider
-- notification (one per pending order), read from a file of `path<TAB>body` lines
-- (written by `paydesk-bench versus`). Thread i of n sends lines i, i+n, i+2n…; once a
-- thread has sent all of its lines its connections wait (delay) and the thread stops
-- when every answer is in, so each notification is sent exactly once. wrk itself runs
-- for its whole -d, so each thread, when done, leaves a file `<requests>.done.<id>`: the
-- bench then ends wrk with SIGINT (wrk prints its results then). The duration is the
-- wall time from the first request to the last answer, measured here. done() prints one
-- `VERSUS {…}` line (microseconds) for the bench to read.
--
--   wrk -t2 -c64 -d60s --timeout 30s -s bench/wrk/notify.lua http://127.0.0.1:PORT -- requests.tsv 2

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_usec; } versus_timeval;
  int gettimeofday(versus_timeval *tv, void *tz);
]]
local tv = ffi.new("versus_timeval")
local function now_us()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end

local next_id = 1
function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
end

function init(args)
  local file, threads = args[1], tonumber(args[2])
  done_file = file .. ".done." .. id
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8" }
  reqs = {}
  local i = 0
  for line in io.lines(file) do
    if i % threads == id - 1 then
      local path, body = line:match("^([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", path, headers, body)
    end
    i = i + 1
  end
  sent, answered, acked = 0, 0, 0
end

function delay()
  -- Nothing left to send on this connection: park it (far longer than the run).
  if sent >= #reqs then return 3600000 end
  return 0
end

function request()
  -- wrk calls the first thread's request() once before the run, to check the request it
  -- builds: answer that call without using up a notification.
  if id == 1 and not checked then
    checked = true
    return reqs[1]
  end
  sent = sent + 1
  if sent == 1 then first_us = now_us() end
  return reqs[sent]
end

function response(status, headers, body)
  answered = answered + 1
  if status == 200 and body == "success" then acked = acked + 1 end
  if answered == #reqs then
    last_us = now_us()
    local f = io.open(done_file, "w")
    if f then f:close() end
    wrk.thread:stop()
  end
end

local threads = {}
local setup_inner = setup
function setup(thread)
  setup_inner(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local acks, first, last = 0, nil, nil
  for _, t in ipairs(threads) do
    acks = acks + (t:get("acked") or 0)
    local f, l = t:get("first_us"), t:get("last_us")
    if f and (not first or f < first) then first = f end
    if l and (not last or l > last) then last = l end
  end
  local e = summary.errors
  io.write(string.format(
    'VERSUS {"duration_us":%d,"requests":%d,"acked":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p99_us":%d,"max_us":%d,"errors":%d}\n',
    (first and last) and (last - first) or summary.duration, summary.requests, acks, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end
