-- Puts or deletes a webhook and keeps the "viewer events wanted" flag true to the set of hooks.
--
-- KEYS[1]  webhooks hash (id -> JSON)
-- ARGV[1]  op: 'put' or 'delete'
-- ARGV[2]  webhook id
-- ARGV[3]  put: the webhook JSON
--
-- Gateways append viewer.* events only while the flag is set, so rooms without viewer webhooks
-- cost no event traffic. Doing the write and the flag in one script keeps two replicas editing
-- hooks at once from leaving the flag stale. Returns 1 if something changed, else 0.
local changed
if ARGV[1] == 'put' then
  redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
  changed = 1
else
  changed = redis.call('HDEL', KEYS[1], ARGV[2])
end
local wanted = false
for _, json in ipairs(redis.call('HVALS', KEYS[1])) do
  for _, e in ipairs(cjson.decode(json).events) do
    if string.sub(e, 1, 7) == 'viewer.' then wanted = true end
  end
end
if wanted then redis.call('SET', K.viewerEventsWanted, '1') else redis.call('DEL', K.viewerEventsWanted) end
return changed
