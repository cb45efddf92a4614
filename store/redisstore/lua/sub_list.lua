-- sub_list: up to limit live subscriptions in id order after a marker. ARGV: now, start (a ZRANGEBYLEX bound:
-- '-' or '(' .. marker), limit. Returns {id, record, ...}.
local now, start, limit = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
sub_prune(now)
local out = {}
while #out < 2 * limit do
  local ids = redis.call('ZRANGEBYLEX', K_SUBL, start, '+', 'LIMIT', 0, limit)
  if #ids == 0 then break end
  for _, id in ipairs(ids) do
    local rec = live(id, now)
    if rec then
      out[#out + 1] = id
      out[#out + 1] = rec
      if #out == 2 * limit then break end
    end
  end
  start = '(' .. ids[#ids]
end
return out
