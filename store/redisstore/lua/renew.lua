-- renew: restart a live claim with a new ttl and grace, extending its messages' lives as a claim does.
-- ARGV: now, claim id, ttl, grace. Returns 1, or 0 when the claim does not exist or has ended.
local now, cid, ttl, grace = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
if not epoch() then return 0 end
trim(now)
local c = redis.call('HGET', K_CLAIMS, cid)
if not c then return 0 end
local cl = claim_decode(c)
if now >= cl.exp then return 0 end
cl.ttl, cl.grace, cl.upd, cl.exp = ttl, grace, now, now + ttl
local life = cl.exp + grace
local recs, held, exp = {}, {}, {}
for _, n in ipairs(cl.members) do
  local s = sstr(n)
  local rec = redis.call('HGET', K_MSGS, s)
  if rec then
    local m = msg_decode(rec)
    if m.cid == cid and not expired(m, now) then
      m.cexp = cl.exp
      if m.e < life then
        m.e, m.ttl = life, ttl + grace
        exp[#exp + 1] = life
        exp[#exp + 1] = s
      end
      recs[#recs + 1] = s
      recs[#recs + 1] = msg_encode(m, rec)
      held[#held + 1] = cl.exp
      held[#held + 1] = s
    end
  end
end
if #recs > 0 then
  call('HSET', K_MSGS, recs)
  call('ZADD', K_HELD, held)
end
if #exp > 0 then call('ZADD', K_EXP, exp) end
redis.call('HSET', K_CLAIMS, cid, claim_encode(cl))
redis.call('ZADD', K_CEXP, cl.exp, cid)
return 1
