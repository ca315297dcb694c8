-- Applies one gateway's batched presence report atomically.
--
-- KEYS[1]  gateways sorted set (gateway id -> last report, ms)
-- ARGV[1]  gateway id
-- ARGV[2]  now (ms)
-- ARGV[3]  mode: 'delta' or 'sync'
-- ARGV[4]  JSON. delta: {"j":[[id,room,user|null,since],...],"l":[[id,room],...]}
--                sync:  {"v":[[id,room,user|null,since],...]}  (every viewer the gateway has now)
-- ARGV[5]  history max age (ms)
-- ARGV[6]  events stream max length (approximate)
--
-- Returns 'resync' when a delta comes from a gateway the store does not know (the sweep expired
-- it, or Redis lost its data): the delta is not applied, and the gateway answers with a sync.
-- A sync converges on the given set: leaves for viewers no longer there, joins for new ones.
local gw, now, mode = ARGV[1], tonumber(ARGV[2]), ARGV[3]
if mode == 'delta' and not redis.call('ZSCORE', KEYS[1], gw) then return 'resync' end
local batch = cjson.decode(ARGV[4])
local ctx = presenceContext(now, tonumber(ARGV[5]), ARGV[6])

local function addViewer(v)
  local id, room, user, since = v[1], v[2], v[3], v[4]
  if user == cjson.null then user = nil end
  local pk = key('roomPresence', room, gw)
  if redis.call('HSETNX', pk, id, cjson.encode({u = user, s = since})) == 0 then return end
  redis.call('SADD', key('roomGateways', room), gw)
  redis.call('SADD', key('gatewayRooms', nil, gw), room)
  recordPresence(ctx, room, 'joined', gw, id, user, nil)
end

if mode == 'delta' then
  for _, v in ipairs(batch.j) do addViewer(v) end
  for _, v in ipairs(batch.l) do removeViewer(ctx, v[2], gw, v[1], nil) end
else
  local want = {}
  for _, v in ipairs(batch.v) do want[v[2] .. '/' .. v[1]] = true end
  for _, room in ipairs(redis.call('SMEMBERS', key('gatewayRooms', nil, gw))) do
    for _, id in ipairs(redis.call('HKEYS', key('roomPresence', room, gw))) do
      if not want[room .. '/' .. id] then removeViewer(ctx, room, gw, id, 'resync') end
    end
  end
  for _, v in ipairs(batch.v) do addViewer(v) end
end
redis.call('ZADD', KEYS[1], now, gw)
expireTouched(ctx)
return 'ok'
