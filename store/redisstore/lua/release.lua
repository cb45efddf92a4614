-- release: end a claim; its messages become claimable at once (claim counts are kept). ARGV: now, claim id.
local now, cid = tonumber(ARGV[1]), ARGV[2]
if not epoch() then return 0 end
trim(now)
local c = redis.call('HGET', K_CLAIMS, cid)
if not c then return 0 end
local recs, freed = {}, {}
for _, n in ipairs(claim_decode(c).members) do
  local s = sstr(n)
  local rec = redis.call('HGET', K_MSGS, s)
  if rec then
    local m = msg_decode(rec)
    if m.cid == cid and m.cexp > now then
      m.cexp = now
      recs[#recs + 1] = s
      recs[#recs + 1] = msg_encode(m, rec)
      freed[#freed + 1] = s
    end
  end
end
if #recs > 0 then
  call('HSET', K_MSGS, recs)
  to_free(K_HELD, freed)
end
drop_claim(cid)
return 1
