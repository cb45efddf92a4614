-- sub_update: change the given fields of a live subscription. ARGV: now, id, then for subscriber, ttl, options
-- and confirmed a flag (0/1: given) followed by the value.
-- Returns {0} when the subscription does not exist, {2} when the subscriber is taken, else {1, record}.
local now, id = tonumber(ARGV[1]), ARGV[2]
sub_prune(now)
local rec = live(id, now)
if not rec then return {0} end
local s = sub_decode(rec)
if ARGV[3] == '1' and ARGV[4] ~= s.subscriber then
  local other = redis.call('HGET', K_SUBK, ARGV[4])
  if other and other ~= id and live(other, now) then return {2} end
  redis.call('HDEL', K_SUBK, s.subscriber)
  redis.call('HSET', K_SUBK, ARGV[4], id)
  s.subscriber = ARGV[4]
end
if ARGV[5] == '1' then
  s.ttl = tonumber(ARGV[6])
  s.expires = now + s.ttl
  redis.call('ZADD', K_SUBE, s.expires, id)
end
if ARGV[7] == '1' then s.options = ARGV[8] end
if ARGV[9] == '1' then s.confirmed = tonumber(ARGV[10]) end
rec = sub_encode(s)
redis.call('HSET', K_SUBS, id, rec)
return {1, rec}
