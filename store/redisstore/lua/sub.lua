-- Prelude of every subscription script. KEYS, all with the queue's hash tag:
local K_META, K_SUBS, K_SUBK, K_SUBL, K_SUBE = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
-- meta  HASH  the queue (see queue.lua); subscriptions stay when the queue is deleted
-- subs  HASH  id -> subscription record: <dddBI4 ttl, created, expires (µs), confirmed, subscriber length, then
--             the subscriber and the options (raw JSON)
-- subk  HASH  subscriber -> id
-- subl  ZSET  ids, all scored 0, so ZRANGEBYLEX pages them in id order
-- sube  ZSET  ids scored by expiry

local SHDR = '<dddBI4'

local function sub_decode(rec)
  local ttl, created, expires, confirmed, n, pos = struct.unpack(SHDR, rec)
  return {ttl = ttl, created = created, expires = expires, confirmed = confirmed,
    subscriber = string.sub(rec, pos, pos + n - 1), options = string.sub(rec, pos + n)}
end

local function sub_encode(s)
  return struct.pack(SHDR, s.ttl, s.created, s.expires, s.confirmed, #s.subscriber) .. s.subscriber .. s.options
end

local function sub_remove(id)
  local rec = redis.call('HGET', K_SUBS, id)
  if rec and redis.call('HGET', K_SUBK, sub_decode(rec).subscriber) == id then
    redis.call('HDEL', K_SUBK, sub_decode(rec).subscriber)
  end
  redis.call('HDEL', K_SUBS, id)
  redis.call('ZREM', K_SUBL, id)
  redis.call('ZREM', K_SUBE, id)
end

-- sub_prune drops up to 1000 expired subscriptions; reads check expiry themselves.
local function sub_prune(now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_SUBE, '-inf', now, 'LIMIT', 0, 1000)) do
    sub_remove(id)
  end
end

-- live returns the record of a live subscription, or false.
local function live(id, now)
  local rec = redis.call('HGET', K_SUBS, id)
  if rec and now < sub_decode(rec).expires then return rec end
  return false
end

