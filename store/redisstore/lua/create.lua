-- create: create the queue with the given metadata unless it exists.
-- ARGV: now, metadata, epoch for a new queue. Returns {1 if created, 1 if it must be recorded in the catalogue}.
local created, needcat = create_queue(tonumber(ARGV[1]), ARGV[2], ARGV[3])
return {created, needcat}
