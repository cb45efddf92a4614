-- claim_get: a live claim and its live messages. ARGV: now, claim id.
-- Returns {} when the claim (or queue) does not exist or has ended, else
-- {claim header (<dddd ttl, grace, updated, expires), epoch, seq, record, ...}.
local now, cid = tonumber(ARGV[1]), ARGV[2]
local ep = epoch()
if not ep then return {} end
trim(now)
local c = redis.call('HGET', K_CLAIMS, cid)
if not c then return {} end
local cl = claim_decode(c)
if now >= cl.exp then return {} end
local out = {string.sub(c, 1, 32), ep}
for _, n in ipairs(cl.members) do
  local s = sstr(n)
  local rec = redis.call('HGET', K_MSGS, s)
  if rec then
    local m = msg_decode(rec)
    if m.cid == cid and not expired(m, now) then
      out[#out + 1] = s
      out[#out + 1] = rec
    end
  end
end
return out
