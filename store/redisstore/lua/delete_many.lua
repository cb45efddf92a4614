-- delete_many: delete the given messages whether or not they are claimed. ARGV: now, then pairs of epoch and
-- sequence. Returns the number deleted.
local ep = epoch()
if not ep then return 0 end
local now = tonumber(ARGV[1])
trim(now)
local n = 0
for i = 2, #ARGV, 2 do
  if ARGV[i] == ep then
    local s = ARGV[i + 1]
    local rec = redis.call('HGET', K_MSGS, s)
    if rec then
      remove(s, rec, now)
      n = n + 1
    end
  end
end
return n
