-- sub_create: add a subscription unless the queue has a live one with the same subscriber, creating the queue
-- (empty metadata) if it is missing. ARGV: now, epoch for a new queue, id, subscriber, ttl, options, confirmed.
-- Returns {1 if the queue must be recorded in the catalogue, 1 on conflict, id, record}.
local now, id, subscriber, ttl = tonumber(ARGV[1]), ARGV[3], ARGV[4], tonumber(ARGV[5])
local needcat = 0
if redis.call('EXISTS', K_META) == 0 then
  redis.call('HSET', K_META, 'created', now, 'meta', '{}', 'epoch', ARGV[2], 'seq', 0)
  needcat = 1
elseif redis.call('HGET', K_META, 'c') ~= '1' then
  needcat = 1
end
sub_prune(now)
local dup = redis.call('HGET', K_SUBK, subscriber)
if dup then
  local rec = live(dup, now)
  if rec then return {needcat, 1, dup, rec} end
  sub_remove(dup)
end
local rec = sub_encode({ttl = ttl, created = now, expires = now + ttl, confirmed = tonumber(ARGV[7]),
  subscriber = subscriber, options = ARGV[6]})
redis.call('HSET', K_SUBS, id, rec)
redis.call('HSET', K_SUBK, subscriber, id)
redis.call('ZADD', K_SUBL, 0, id)
redis.call('ZADD', K_SUBE, now + ttl, id)
return {needcat, 0, id, rec}
