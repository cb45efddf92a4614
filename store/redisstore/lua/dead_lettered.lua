-- dead_lettered: remove messages copied to the dead-letter queue, if they are still under the given lease.
-- ARGV: lease id, then sequences. Returns the number removed.
local lease = ARGV[1]
local n = 0
for i = 2, #ARGV do
  local s = ARGV[i]
  local rec = redis.call('HGET', K_MSGS, s)
  if rec and string.sub(rec, 73, 108) == lease then
    remove(s, rec)
    n = n + 1
  end
end
return n
