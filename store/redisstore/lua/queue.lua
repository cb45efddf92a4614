-- Prelude of every queue script (the Go side prepends it). Every key is passed in KEYS, always in this order, and
-- all of them carry the queue's hash tag, so they live in one slot and the script is atomic on one node:
local K_META, K_MSGS, K_ORD, K_EXP, K_FREE, K_HELD, K_DLY, K_CLAIMS, K_CEXP =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
-- meta    HASH  created (µs), meta (JSON), epoch (16 hex), seq (last sequence), c ("1" once in the catalogue)
-- msgs    HASH  seq -> message record (below)
-- ord     ZSET  seq scored by seq: every stored message, in post order
-- exp     ZSET  seq scored by expiry: trimmed from -inf to now
-- free    ZSET  seq scored by seq: messages neither claimed nor delayed when last settled (claims take from here)
-- held    ZSET  seq scored by the end of its claim (or dead-letter lease): back to free once it has passed
-- dly     ZSET  seq scored by the end of its delay: to free once it has passed
-- claims  HASH  claim id -> claim record (below)
-- cexp    ZSET  claim id scored by expiry
--
-- Times and durations are integer microseconds, exact in Lua's doubles. A message record is
--   <ddddddd  created, expires, delay until (0: none), ttl (as reported), posted ttl, claim expires, claim count
--   16 bytes  client id
--   36 bytes  last claim id (zero bytes: never claimed)
--   the rest  body
-- A claim record is <dddd ttl, grace, updated, expires, then one <d per message sequence it took.

local TRIM = 1000 -- entries settled per index and call; reads never rely on settling, they check each record
local HDR = '<ddddddd'
local NOCLAIM = string.rep('\0', 36)

local function sstr(n) return string.format('%d', n) end

local function msg_decode(rec)
  local c, e, d, ttl, pttl, cexp, n = struct.unpack(HDR, rec)
  return {c = c, e = e, d = d, ttl = ttl, pttl = pttl, cexp = cexp, n = n,
    client = string.sub(rec, 57, 72), cid = string.sub(rec, 73, 108)}
end

local function msg_encode(m, rec)
  return struct.pack(HDR, m.c, m.e, m.d, m.ttl, m.pttl, m.cexp, m.n) .. m.client .. m.cid .. string.sub(rec, 109)
end

local function expired(m, now) return now >= m.e end
local function claimed(m, now) return m.cid ~= NOCLAIM and now < m.cexp end
local function delayed(m, now) return now < m.d end

local function claim_decode(c)
  local ttl, grace, upd, exp = struct.unpack('<dddd', c)
  local members = {}
  for i = 33, #c, 8 do
    members[#members + 1] = struct.unpack('<d', c, i)
  end
  return {ttl = ttl, grace = grace, upd = upd, exp = exp, members = members}
end

local function claim_encode(cl)
  local parts = {struct.pack('<dddd', cl.ttl, cl.grace, cl.upd, cl.exp)}
  for _, s in ipairs(cl.members) do
    parts[#parts + 1] = struct.pack('<d', s)
  end
  return table.concat(parts)
end

-- call runs cmd key args... in chunks, so that long argument lists stay below Lua's stack limit.
local function call(cmd, key, args)
  local step = 1000
  for i = 1, #args, step do
    redis.call(cmd, key, unpack(args, i, math.min(i + step - 1, #args)))
  end
end

-- drop_claim ends a claim record.
local function drop_claim(id)
  redis.call('HDEL', K_CLAIMS, id)
  redis.call('ZREM', K_CEXP, id)
end

-- detach removes seq from the claim that names it; a claim left without messages ends (as in the engine).
local function detach(cid, seq)
  if cid == NOCLAIM then return end
  local c = redis.call('HGET', K_CLAIMS, cid)
  if not c then return end
  local cl = claim_decode(c)
  local n = tonumber(seq)
  local kept = {}
  for _, s in ipairs(cl.members) do
    if s ~= n then kept[#kept + 1] = s end
  end
  if #kept == 0 then
    drop_claim(cid)
  elseif #kept ~= #cl.members then
    cl.members = kept
    redis.call('HSET', K_CLAIMS, cid, claim_encode(cl))
  end
end

-- remove deletes a message from msgs and from the indexes that can hold it (rec may be false when the record is
-- already gone: then from all of them). ord, exp and held are always exact, because stats count them; a stale
-- entry in free or dly would only be skipped later.
local function remove(seq, rec, now)
  redis.call('HDEL', K_MSGS, seq)
  redis.call('ZREM', K_ORD, seq)
  redis.call('ZREM', K_EXP, seq)
  if not rec then
    redis.call('ZREM', K_FREE, seq)
    redis.call('ZREM', K_HELD, seq)
    redis.call('ZREM', K_DLY, seq)
    return
  end
  local m = msg_decode(rec)
  if not claimed(m, now) then redis.call('ZREM', K_FREE, seq) end
  if m.cid ~= NOCLAIM then
    redis.call('ZREM', K_HELD, seq)
    detach(m.cid, seq)
  end
  if m.d > 0 then redis.call('ZREM', K_DLY, seq) end
end

-- to_free moves the given sequences from index key to free.
local function to_free(key, seqs)
  if #seqs == 0 then return end
  local args = {}
  for _, s in ipairs(seqs) do
    args[#args + 1] = s
    args[#args + 1] = s
  end
  call('ZADD', K_FREE, args)
  call('ZREM', key, seqs)
end

-- trim removes up to TRIM expired messages. Every script that reads or writes messages calls it, so a queue
-- that is only posted to still sheds its expired messages.
local function trim(now)
  local gone = redis.call('ZRANGEBYSCORE', K_EXP, '-inf', now, 'LIMIT', 0, TRIM)
  if #gone > 0 then
    local recs = redis.call('HMGET', K_MSGS, unpack(gone))
    for i, s in ipairs(gone) do remove(s, recs[i], now) end
  end
end

-- settle applies everything time did up to now, for the scripts that take messages from free (claim, pop):
-- expired messages leave, ended claims end, messages whose claim or delay ended become free. Each step handles
-- at most TRIM entries per call.
local function settle(now)
  trim(now)
  local ended = redis.call('ZRANGEBYSCORE', K_CEXP, '-inf', now, 'LIMIT', 0, TRIM)
  if #ended > 0 then
    call('HDEL', K_CLAIMS, ended)
    call('ZREM', K_CEXP, ended)
  end
  to_free(K_HELD, redis.call('ZRANGEBYSCORE', K_HELD, '-inf', now, 'LIMIT', 0, TRIM))
  to_free(K_DLY, redis.call('ZRANGEBYSCORE', K_DLY, '-inf', now, 'LIMIT', 0, TRIM))
end

-- take_free returns up to limit claimable messages from the head of free, in post order, as {seq, rec, m}
-- triples, removing each from free; candidates found not claimable are refiled (or removed when expired).
local function take_free(now, limit)
  local out = {}
  while #out < limit do
    local cands = redis.call('ZRANGE', K_FREE, 0, limit - #out - 1)
    if #cands == 0 then break end
    local recs = redis.call('HMGET', K_MSGS, unpack(cands))
    call('ZREM', K_FREE, cands)
    for i, s in ipairs(cands) do
      local rec = recs[i]
      if rec then
        local m = msg_decode(rec)
        if expired(m, now) then
          remove(s, rec, now)
        elseif claimed(m, now) then
          redis.call('ZADD', K_HELD, m.cexp, s)
        elseif delayed(m, now) then
          redis.call('ZADD', K_DLY, m.d, s)
        else
          out[#out + 1] = {s, rec, m}
        end
      end
    end
  end
  return out
end

-- epoch returns the queue's epoch, or false when the queue does not exist.
local function epoch()
  return redis.call('HGET', K_META, 'epoch')
end

-- create_queue creates the queue if it is missing. It returns 1 if it created it, 1 when the queue still has to
-- be recorded in the project's catalogue (just created, or created by a caller that stopped before recording
-- it), and the queue's epoch.
local function create_queue(now, metadata, new_epoch)
  local m = redis.call('HMGET', K_META, 'epoch', 'c')
  if not m[1] then
    redis.call('HSET', K_META, 'created', now, 'meta', metadata, 'epoch', new_epoch, 'seq', 0)
    return 1, 1, new_epoch
  end
  if m[2] ~= '1' then return 0, 1, m[1] end
  return 0, 0, m[1]
end

-- append adds messages at the end of the queue. Each message is {ttl, delay, client, claim count, body}. It
-- returns the first sequence.
local function append(now, msgs)
  local n = #msgs
  local last = redis.call('HINCRBY', K_META, 'seq', n)
  local first = last - n + 1
  local recs, ord, exp, free, dly = {}, {}, {}, {}, {}
  for i, nm in ipairs(msgs) do
    local s = sstr(first + i - 1)
    local ttl, delay = nm[1], nm[2]
    local e, d = now + ttl, 0
    if delay > 0 then d = now + delay end
    recs[#recs + 1] = s
    recs[#recs + 1] = struct.pack(HDR, now, e, d, ttl, ttl, 0, nm[4]) .. nm[3] .. NOCLAIM .. nm[5]
    ord[#ord + 1] = s
    ord[#ord + 1] = s
    exp[#exp + 1] = e
    exp[#exp + 1] = s
    if d > 0 then
      dly[#dly + 1] = d
      dly[#dly + 1] = s
    else
      free[#free + 1] = s
      free[#free + 1] = s
    end
  end
  call('HSET', K_MSGS, recs)
  call('ZADD', K_ORD, ord)
  call('ZADD', K_EXP, exp)
  if #free > 0 then call('ZADD', K_FREE, free) end
  if #dly > 0 then call('ZADD', K_DLY, dly) end
  return first
end

