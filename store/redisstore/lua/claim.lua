-- claim: claim up to limit claimable messages from the head, in post order. A message whose claim count has
-- reached max count (when max count > 0) is not claimed but leased for dead-lettering: it is held under the
-- lease id until lease-until, the caller copies it to the dead-letter queue (another slot) and then removes it
-- with dead_lettered; if the caller never does, the lease ends and a later claim tries again.
-- ARGV: now, claim id, ttl, grace, limit, max count, lease id, lease until.
-- Returns {} for a missing queue, else {epoch, number claimed, claimed seq, record, ..., leased seq, record, ...}.
local now, cid, ttl, grace, limit = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local maxc, lease, lease_until = tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8])
local ep = epoch()
if not ep then return {} end
settle(now)
local expires = now + ttl
local life = expires + grace
local taken, leased, members = {}, {}, {}
-- Writes are gathered so that each index gets one call, whatever the limit.
local recs, held, exp = {}, {}, {}
for _, t in ipairs(take_free(now, limit)) do
  local s, rec, m = t[1], t[2], t[3]
  if maxc > 0 and m.n >= maxc then
    m.cid, m.cexp = lease, lease_until
    rec = msg_encode(m, rec)
    held[#held + 1] = lease_until
    leased[#leased + 1] = s
    leased[#leased + 1] = rec
  else
    m.cid, m.cexp, m.n = cid, expires, m.n + 1
    if m.e < life then
      m.e, m.ttl = life, ttl + grace
      exp[#exp + 1] = life
      exp[#exp + 1] = s
    end
    rec = msg_encode(m, rec)
    held[#held + 1] = expires
    members[#members + 1] = tonumber(s)
    taken[#taken + 1] = s
    taken[#taken + 1] = rec
  end
  held[#held + 1] = s
  recs[#recs + 1] = s
  recs[#recs + 1] = rec
end
if #recs > 0 then
  call('HSET', K_MSGS, recs)
  call('ZADD', K_HELD, held)
end
if #exp > 0 then call('ZADD', K_EXP, exp) end
if #members > 0 then
  redis.call('HSET', K_CLAIMS, cid, claim_encode({ttl = ttl, grace = grace, upd = now, exp = expires, members = members}))
  redis.call('ZADD', K_CEXP, expires, cid)
end
local out = {ep, #members}
for _, v in ipairs(taken) do out[#out + 1] = v end
for _, v in ipairs(leased) do out[#out + 1] = v end
return out
