-- pop: remove and return up to limit claimable messages from the head. ARGV: now, limit.
-- Returns {} for a missing queue, else {epoch, seq, record, ...}.
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local ep = epoch()
if not ep then return {} end
settle(now)
local out = {ep}
for _, t in ipairs(take_free(now, limit)) do
  remove(t[1], t[2], now)
  out[#out + 1] = t[1]
  out[#out + 1] = t[2]
end
return out
