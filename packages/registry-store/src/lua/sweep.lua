-- Expires silent cameras and gateways atomically.
--
-- KEYS[1]  cameras sorted set ("<room>/<agent>" -> last heartbeat, ms)
-- KEYS[2]  gateways sorted set (gateway id -> last presence report, ms)
-- ARGV[1]  now (ms)
-- ARGV[2]  camera cutoff: heartbeats at or before this are stale
-- ARGV[3]  gateway cutoff: reports at or before this are stale
-- ARGV[4]  history max age (ms)
-- ARGV[5]  events stream max length (approximate)
-- ARGV[6]  most cameras/gateways expired per call (bounds the time the script holds Redis)
-- ARGV[7]  PX of the registryListening key (see noteListening in prelude.lua)
-- ARGV[8]  grace after the registry was away: one agent timeout
--
-- A room whose last camera expires loses its live key; DEL returning 1 means this call made the
-- online -> offline transition, so only it appends room.offline. Two replicas sweeping at once
-- cannot both see the same stale member: the script runs atomically, and the first removes it.
-- An expired gateway's viewers leave with reason gateway_timeout.
--
-- No camera is expired while `registryResumed` exists: after the registry was away (every replica
-- down or cut off from Redis), cameras that streamed throughout have old heartbeats only because
-- nobody could take their new ones, and expiring them would fire a false room.offline followed by
-- room.online at their next heartbeat. Gateways are swept as usual: they write presence to Redis
-- themselves, so a registry outage does not age them.
-- Returns {camerasExpired, {rooms gone offline}, {gateways expired}, viewersExpired, grace (0/1),
-- 1 if this call found the registry had been away and began the grace}.
local now, limit = tonumber(ARGV[1]), tonumber(ARGV[6])
local ctx = presenceContext(now, tonumber(ARGV[4]), ARGV[5])
local offline, gone = {}, {}
local returned = noteListening(now, ARGV[7], ARGV[8])
local grace = redis.call('EXISTS', K.registryResumed) == 1
local cams = {}
if not grace then cams = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[2], 'BYSCORE', 'LIMIT', 0, limit) end
for _, member in ipairs(cams) do
  redis.call('ZREM', KEYS[1], member)
  local slash = string.find(member, '/', 1, true)
  local room, agent = string.sub(member, 1, slash - 1), string.sub(member, slash + 1)
  local ck = key('roomCameras', room)
  redis.call('HDEL', ck, agent)
  if redis.call('HLEN', ck) == 0 and redis.call('DEL', key('roomLive', room)) == 1 then
    redis.call('XADD', K.events, 'MAXLEN', '~', ARGV[5], '*', 'type', 'room.offline', 'room', room, 'at', now, 'agent', agent)
    offline[#offline + 1] = room
  end
end
local viewers = 0
local gws = redis.call('ZRANGE', KEYS[2], '-inf', ARGV[3], 'BYSCORE', 'LIMIT', 0, limit)
for _, gw in ipairs(gws) do
  redis.call('ZREM', KEYS[2], gw)
  for _, room in ipairs(redis.call('SMEMBERS', key('gatewayRooms', nil, gw))) do
    for _, id in ipairs(redis.call('HKEYS', key('roomPresence', room, gw))) do
      viewers = viewers + removeViewer(ctx, room, gw, id, 'gateway_timeout')
    end
  end
  redis.call('DEL', key('gatewayRooms', nil, gw))
  gone[#gone + 1] = gw
end
expireTouched(ctx)
return {#cams, offline, gone, viewers, grace and 1 or 0, returned and 1 or 0}
