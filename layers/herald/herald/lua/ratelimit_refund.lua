-- Give one request back to each named policy: the inverse of an admitted hit, never past full.
--
-- KEYS[1]  the subject's hash, as in ratelimit.lua
-- ARGV[1]  now in whole microseconds, or "" to read Redis' own clock
-- ARGV[2]  the policies to refund, "name interval_us" joined by ";"
--
-- A policy's theoretical arrival time moves back by one interval; if that is no later than now,
-- the bucket is full and its field is removed (a missing field is a full bucket).

local now = tonumber(ARGV[1])
if not now then
    local t = redis.call('TIME')
    now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

for name, interval in string.gmatch(ARGV[2], '([^ ;]+) (%d+)') do
    local tat = tonumber(redis.call('HGET', KEYS[1], name))
    if tat then
        local back = tat - tonumber(interval)
        if back > now then
            redis.call('HSET', KEYS[1], name, string.format('%.0f', back))
        else
            redis.call('HDEL', KEYS[1], name)
        end
    end
end
return 1
