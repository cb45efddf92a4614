-- update: compare-and-set of the queue's metadata. ARGV: expected current metadata, new metadata.
-- Returns 1 when set, 0 when the metadata changed meanwhile (the caller retries), -1 when the queue is missing.
local cur = redis.call('HGET', KEYS[1], 'meta')
if not cur then return -1 end
if cur ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'meta', ARGV[2])
return 1
