-- catalogued: note that the queue is recorded in its project's catalogue (only if it still exists).
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'c', '1')
end
return 0
