-- dead_lettered: remove messages copied to the dead-letter queue, if they are still under the given lease.
-- ARGV: now, lease id, then sequences. Returns the number removed.
local now, lease = tonumber(ARGV[1]), ARGV[2]
local n = 0
for i = 3, #ARGV do
  local s = ARGV[i]
  local rec = redis.call('HGET', K_MSGS, s)
  if rec and string.sub(rec, 73, 108) == lease then
    remove(s, rec, now)
    n = n + 1
  end
end
return n
