-- Records one agent heartbeat atomically.
--
-- KEYS[1]  cameras sorted set ("<room>/<agent>" -> last heartbeat, ms)
-- ARGV[1]  agent id
-- ARGV[2]  now (ms)
-- ARGV[3]  JSON [[room, cameraStatusJson], ...]
-- ARGV[4]  events stream max length (approximate)
--
-- A room without a record gets a public one titled after its name. The room's live key is set
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
    redis.call('HSET', rk, 'name', room, 'title', room, 'description', '', 'visibility', 'public', 'createdAt', now, 'updatedAt', now)
    redis.call('ZADD', K.rooms, 'NX', now, room)
  end
  if redis.call('SET', key('roomLive', room), now, 'NX') then
    redis.call('XADD', K.events, 'MAXLEN', '~', ARGV[4], '*', 'type', 'room.online', 'room', room, 'at', now, 'agent', agent)
    online[#online + 1] = room
  end
end
return online
