-- delete: delete one message under the claim rules. ARGV: now, epoch, sequence, claim id ('' for none).
-- Returns 0 (deleted, or nothing to delete), 1 (claimed by another), 2 (not claimed), 3 (no such claim).
local now, want = tonumber(ARGV[1]), ARGV[4]
if epoch() ~= ARGV[2] then return 0 end
trim(now)
local s = ARGV[3]
local rec = redis.call('HGET', K_MSGS, s)
if not rec then return 0 end
local m = msg_decode(rec)
if expired(m, now) then return 0 end
local is_claimed = claimed(m, now)
if want == '' and is_claimed then return 1 end
if want ~= '' and not is_claimed then return 2 end
if want ~= '' and m.cid ~= want then
  local c = redis.call('HGET', K_CLAIMS, want)
  if c and now < claim_decode(c).exp then return 1 end
  return 3
end
remove(s, rec, now)
return 0
