-- post: append messages, creating the queue (empty metadata) if it is missing.
-- ARGV: now, epoch for a new queue, n, then n times: ttl, delay, client id (16 bytes), claim count, body.
-- Returns {epoch, first sequence, 1 if the queue must be recorded in the catalogue}.
local now = tonumber(ARGV[1])
local _, needcat, ep = create_queue(now, '{}', ARGV[2])
trim(now)
local msgs = {}
for i = 0, tonumber(ARGV[3]) - 1 do
  local a = 4 + i * 5
  msgs[#msgs + 1] = {tonumber(ARGV[a]), tonumber(ARGV[a + 1]), ARGV[a + 2], tonumber(ARGV[a + 3]), ARGV[a + 4]}
end
local first = append(now, msgs)
return {ep, first, needcat}
