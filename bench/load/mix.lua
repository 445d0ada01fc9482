-- wrk script: a mix of Herald API calls across the seeded businesses.
--   35% GET  /api/v1/posts/{id}             (get)
--   30% GET  /api/v1/schedule/{business}    (list, 20 a page)
--   20% POST /api/v1/schedule               (schedule a post a week ahead)
--   15% POST /api/v1/publish/linkedin       (publish now, to the sandbox)
-- Counts answers by status; done() prints one JSON line with the figures.
-- Usage: wrk -t2 -cN -dD -s bench/load/mix.lua http://127.0.0.1:18000  (SEED=path of the data)

local seed_path = os.getenv("SEED") or "bench/results/load-seed.lua"
local data = dofile(seed_path)
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
  math.randomseed(os.time() + (tid or 0) * 7919)
end

local function pick(list) return list[math.random(#list)] end

function request()
  counter = counter + 1
  local b = pick(data)
  local auth = "Bearer " .. b.key
  local roll = math.random(100)
  if roll <= 35 then
    return wrk.format("GET", "/api/v1/posts/" .. pick(b.posts), {["Authorization"] = auth})
  elseif roll <= 65 then
    return wrk.format("GET", "/api/v1/schedule/" .. b.business .. "?limit=20",
      {["Authorization"] = auth})
  elseif roll <= 85 then
    local body = string.format(
      '{"account_ids":["%s"],"text":"Load %d-%d-%d","scheduled_for":"%s"}',
      b.x, tid or 0, counter, math.random(1e9), os.date("!%Y-%m-%dT09:00:00Z", os.time() + 7 * 86400))
    return wrk.format("POST", "/api/v1/schedule",
      {["Authorization"] = auth, ["Content-Type"] = "application/json"}, body)
  else
    local body = string.format('{"account_ids":["%s"],"text":"Now %d-%d-%d"}',
      b.linkedin, tid or 0, counter, math.random(1e9))
    return wrk.format("POST", "/api/v1/publish/linkedin",
      {["Authorization"] = auth, ["Content-Type"] = "application/json"}, body)
  end
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local merged = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for code, n in pairs(s) do merged[code] = (merged[code] or 0) + n end
  end
  local parts = {}
  for code, n in pairs(merged) do table.insert(parts, string.format('"%d": %d', code, n)) end
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_s": %.3f, "rps": %.1f, "p50_ms": %.2f, "p95_ms": %.2f, ' ..
    '"p99_ms": %.2f, "max_ms": %.2f, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "status": %d}, "statuses": {%s}}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status, table.concat(parts, ", ")))
end
