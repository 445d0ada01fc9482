-- GCRA over every policy that applies to one request, checked and updated atomically.
--
-- KEYS[1]  the subject's hash: one field per policy, holding that policy's state. One key per
--          subject means one cluster slot, whatever the number of policies.
-- ARGV[1]  now in whole microseconds, or "" to read Redis' own clock (one clock for every Lambda
--          instance; tests pass theirs).
-- ARGV[2]  the policies, "name interval_us limit" joined by ";" (one argument keeps the
--          request small to encode).
--
-- A policy's whole state is its theoretical arrival time (TAT): when its bucket is full again.
-- A request is admitted when max(TAT, now) + interval - now <= limit * interval. Times are whole
-- microseconds, below 2^53, so the doubles Lua computes with hold them exactly and Redis, the
-- in-process fallback and the reference model in the tests agree to the microsecond.
-- Nothing is written unless every policy admits the request: a refusal costs no quota anywhere.
--
-- Returns one string (one line to parse): "admitted now_us" then per policy
-- " remaining reset_us retry_us".

local now = tonumber(ARGV[1])
if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

local names, intervals, limits = {}, {}, {}
for name, interval, limit in string.gmatch(ARGV[2], '([^ ;]+) (%d+) (%d+)') do
    names[#names + 1] = name
    intervals[#intervals + 1] = tonumber(interval)
    limits[#limits + 1] = tonumber(limit)
end

local stored = redis.call('HMGET', KEYS[1], unpack(names))
local new_tats, out = {}, {}
local admitted = true
local longest = 0

for i = 1, #names do
    local interval = intervals[i]
    local capacity = interval * limits[i]
    local tat = tonumber(stored[i]) or now
    if tat < now then
        tat = now
    end
    local filled = tat + interval - now
    if filled > capacity then
        admitted = false
        out[i] = {0, tat - now, filled - capacity}
    else
        out[i] = {math.floor((capacity - filled) / interval), filled, 0}
    end
    new_tats[i] = tat + interval
    if filled > longest then
        longest = filled
    end
end

if admitted then
    local fields = {}
    for i = 1, #names do
        fields[#fields + 1] = names[i]
        fields[#fields + 1] = string.format('%.0f', new_tats[i])
    end
    redis.call('HSET', KEYS[1], unpack(fields))
    -- The hash lives until its slowest bucket is full again (a missing field is a full bucket),
    -- including buckets of other route groups this request did not touch: only ever extend.
    local ttl = math.ceil(longest / 1000)
    if redis.call('PTTL', KEYS[1]) < ttl then
        redis.call('PEXPIRE', KEYS[1], ttl)
    end
else
    -- Nothing was counted: the policies that would have admitted report what is still left.
    for i = 1, #names do
        if out[i][3] == 0 then
            out[i][1] = out[i][1] + 1
            out[i][2] = out[i][2] - intervals[i]
        end
    end
end

local reply = {admitted and '1' or '0', string.format('%.0f', now)}
for i = 1, #names do
    reply[#reply + 1] = string.format('%.0f %.0f %.0f', out[i][1], out[i][2], out[i][3])
end
return table.concat(reply, ' ')
