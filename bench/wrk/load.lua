-- The one wrk script of the HTTP suite (bench/http.py).
--
-- wrk ... -s load.lua http://127.0.0.1:PORT -- REQUEST_FILE ACCEPTED_STATUS TAG \
--     [BALLOT_FILE THREADS]
--
-- REQUEST_FILE: "METHOD PATH" on the first line, then "Name: value" header lines,
-- an empty line and the body, where @NONCE@ stands for a fresh nonce per request
-- and @BALLOT@ for the next unused code of BALLOT_FILE (one a line, shared out
-- among the THREADS threads). A nonce is TAG, the thread, a counter and random
-- characters of [A-Za-z0-9_-], 32 in all: unique within a run and across runs.
-- Responses with ACCEPTED_STATUS are counted apart from all others; done() prints
-- one line "BENCH {json}" for the suite to read.

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local method, path, headers, template, fixed, accepted_status, tag
local counter = 0
local ballots, next_ballot, step = {}, 1, 1

-- Read by done() through thread:get, so these are globals of the thread.
accepted_count = 0
other_count = 0
built_count = 0
other_statuses = ""

local function char(n)
  return string.sub(alphabet, n + 1, n + 1)
end

local function nonce()
  counter = counter + 1
  local parts = { tag, char(id % 64) }
  local n = counter
  for _ = 1, 5 do
    table.insert(parts, char(n % 64))
    n = math.floor(n / 64)
  end
  for _ = 1, 32 - 6 - #tag do
    table.insert(parts, char(math.random(0, 63)))
  end
  return table.concat(parts)
end

local function ballot()
  local code = ballots[next_ballot]
  next_ballot = next_ballot + step
  -- Out of codes: the server refuses the request, and the suite fails loudly.
  return code or "EXHAUSTED"
end

local function fill(name)
  if name == "NONCE" then
    return nonce()
  elseif name == "BALLOT" then
    return ballot()
  end
end

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local text = file:read("*a")
  file:close()
  accepted_status = tonumber(args[2])
  tag = args[3]
  if args[4] then
    for line in io.lines(args[4]) do
      table.insert(ballots, line)
    end
    step = tonumber(args[5])
    next_ballot = id
  end
  math.randomseed(os.time() * 1000 + id)
  local split = string.find(text, "\n\n", 1, true)
  local head = string.sub(text, 1, split - 1)
  local body = string.sub(text, split + 2)
  headers = {}
  local first = true
  for line in string.gmatch(head, "[^\n]+") do
    if first then
      method, path = string.match(line, "^(%S+) (%S+)$")
      first = false
    else
      local name, value = string.match(line, "^([^:]+): (.*)$")
      headers[name] = value
    end
  end
  if string.find(body, "@%u+@") then
    template = body
  elseif #body > 0 then
    fixed = wrk.format(method, path, headers, body)
  else
    fixed = wrk.format(method, path, headers)
  end
end

function request()
  built_count = built_count + 1
  if fixed then
    return fixed
  end
  local body = string.gsub(template, "@(%u+)@", fill)
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  if status == accepted_status then
    accepted_count = accepted_count + 1
  else
    other_count = other_count + 1
    if #other_statuses < 60 then
      other_statuses = other_statuses .. status .. " "
    end
  end
end

function done(summary, latency, requests)
  local accepted, other, built, statuses = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    accepted = accepted + thread:get("accepted_count")
    other = other + thread:get("other_count")
    built = built + thread:get("built_count")
    statuses = statuses .. thread:get("other_statuses")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "accepted": %d, "other": %d, '
      .. '"built": %d, "connect": %d, "read": %d, "write": %d, "status": %d, '
      .. '"timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"other_statuses": "%s"}\n',
    summary.requests, summary.duration, accepted, other, built,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, statuses
  ))
end
