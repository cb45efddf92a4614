-- stats: counts of live messages. ARGV: now.
-- Returns {} for a missing queue, else {epoch, total, claimed, oldest seq, oldest created, newest seq,
-- newest created} (the seqs are '' for an empty queue).
local now = tonumber(ARGV[1])
local ep = epoch()
if not ep then return {} end
trim(now)
local total = redis.call('ZCARD', K_ORD) - redis.call('ZCOUNT', K_EXP, '-inf', now)
local held = redis.call('ZCOUNT', K_HELD, '(' .. now, '+inf')
-- first_live walks ord from one end to the first message that has not expired.
local function first_live(rev)
  local at = 0
  while true do
    local seqs
    if rev then
      seqs = redis.call('ZREVRANGE', K_ORD, at, at + 31)
    else
      seqs = redis.call('ZRANGE', K_ORD, at, at + 31)
    end
    if #seqs == 0 then return '', 0 end
    local recs = redis.call('HMGET', K_MSGS, unpack(seqs))
    for i, s in ipairs(seqs) do
      if recs[i] then
        local m = msg_decode(recs[i])
        if not expired(m, now) then return s, m.c end
      end
    end
    at = at + 32
  end
end
local oldest, oc = first_live(false)
local newest, nc = first_live(true)
return {ep, total, held, oldest, oc, newest, nc}
