-- Records one agent heartbeat atomically.
--
-- KEYS[1]  cameras sorted set ("<room>/<agent>" -> last heartbeat, ms)
-- ARGV[1]  agent id
-- ARGV[2]  now (ms)
-- ARGV[3]  JSON [[room, cameraStatusJson], ...]
-- ARGV[4]  events stream max length (approximate)
-- ARGV[5]  visibility of a room this heartbeat creates: 'private' (the default) or 'public'
--
-- A room without a record gets one titled after its name, private unless ARGV[5] says public
-- (deny by default: a camera naming a room never opens it to anonymous viewers by itself). The room's live key is set
-- with SET NX: of all the heartbeats arriving at any number of registry replicas, exactly one sees
-- the offline -> online transition, and only that one appends the room.online event.
-- Returns the rooms that went online.
local agent, now = ARGV[1], tonumber(ARGV[2])
local online = {}
for _, cam in ipairs(cjson.decode(ARGV[3])) do
  local room, status = cam[1], cam[2]
  redis.call('HSET', key('roomCameras', room), agent, status)
  redis.call('ZADD', KEYS[1], now, room .. '/' .. agent)
  local rk = key('room', room)
  if redis.call('EXISTS', rk) == 0 then
    redis.call('HSET', rk, 'name', room, 'title', room, 'description', '', 'visibility', ARGV[5], 'createdAt', now, 'updatedAt', now)
    redis.call('ZADD', K.rooms, 'NX', now, room)
    if ARGV[5] == 'public' then
      redis.call('SADD', K.publicRooms, room)
      redis.call('PUBLISH', K.roomsChanged, room)
    end
  end
  if redis.call('SET', key('roomLive', room), now, 'NX') then
    redis.call('XADD', K.events, 'MAXLEN', '~', ARGV[4], '*', 'type', 'room.online', 'room', room, 'at', now, 'agent', agent)
    online[#online + 1] = room
  end
end
return online
