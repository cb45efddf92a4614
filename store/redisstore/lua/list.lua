-- list: a page of live messages in post order after a sequence.
-- ARGV: now, start (a ZRANGEBYSCORE bound: '-inf' or '(' .. sequence), limit, echo (0/1), client id,
-- include claimed (0/1), include delayed (0/1). Returns {} for a missing queue, else {epoch, seq, record, ...}.
local now, start, limit = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local echo, client = ARGV[4] == '1', ARGV[5]
local with_claimed, with_delayed = ARGV[6] == '1', ARGV[7] == '1'
local ep = epoch()
if not ep then return {} end
trim(now)
local out = {ep}
local found, batch = 0, limit
while found < limit do
  local seqs = redis.call('ZRANGEBYSCORE', K_ORD, start, '+inf', 'LIMIT', 0, batch)
  if #seqs == 0 then break end
  local recs = redis.call('HMGET', K_MSGS, unpack(seqs))
  for i, s in ipairs(seqs) do
    local rec = recs[i]
    if rec then
      local m = msg_decode(rec)
      if not expired(m, now) and (with_claimed or not claimed(m, now)) and (with_delayed or not delayed(m, now))
          and (echo or m.client ~= client) then
        out[#out + 1] = s
        out[#out + 1] = rec
        found = found + 1
        if found == limit then break end
      end
    end
  end
  start = '(' .. seqs[#seqs]
  batch = math.min(batch * 2, 1000)
end
return out
