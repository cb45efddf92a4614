-- get: the live messages among the given ids. ARGV: now, then pairs of epoch and sequence.
-- Returns {} for a missing queue, else {epoch, seq, record, ...} (ids of another epoch are skipped).
local now = tonumber(ARGV[1])
local ep = epoch()
if not ep then return {} end
trim(now)
local out = {ep}
for i = 2, #ARGV, 2 do
  if ARGV[i] == ep then
    local s = ARGV[i + 1]
    local rec = redis.call('HGET', K_MSGS, s)
    if rec and not expired(msg_decode(rec), now) then
      out[#out + 1] = s
      out[#out + 1] = rec
    end
  end
end
return out
