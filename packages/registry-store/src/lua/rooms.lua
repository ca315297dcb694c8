-- Creates, updates or deletes a room record atomically and tells gateways to reload the public set.
--
-- KEYS[1]  rooms sorted set (name -> createdAt)
-- ARGV[1]  op: 'create', 'update' or 'delete'
-- ARGV[2]  room name
-- ARGV[3]  now (ms)
-- ARGV[4]  create: JSON {title, description, visibility}; update: JSON of the fields to change
--
-- create returns 0 when the room exists; update returns the record as a flat list, or false when
-- the room does not exist; delete returns 1 or 0. The record's cameras, presence and history are
-- left alone: they expire on their own, and a camera still heartbeating brings the room back.
local op, room, now = ARGV[1], ARGV[2], ARGV[3]
local rk = key('room', room)
local exists = redis.call('EXISTS', rk) == 1
local function setVisibility(v)
  if v == 'public' then redis.call('SADD', K.publicRooms, room) else redis.call('SREM', K.publicRooms, room) end
end
if op == 'create' then
  if exists then return 0 end
  local f = cjson.decode(ARGV[4])
  redis.call('HSET', rk, 'name', room, 'title', f.title, 'description', f.description, 'visibility', f.visibility, 'createdAt', now, 'updatedAt', now)
  redis.call('ZADD', KEYS[1], now, room)
  setVisibility(f.visibility)
  redis.call('PUBLISH', K.roomsChanged, room)
  return 1
elseif op == 'update' then
  if not exists then return false end
  local f = cjson.decode(ARGV[4])
  for _, field in ipairs({'title', 'description', 'visibility'}) do
    if f[field] ~= nil then redis.call('HSET', rk, field, f[field]) end
  end
  redis.call('HSET', rk, 'updatedAt', now)
  if f.visibility ~= nil then
    setVisibility(f.visibility)
    redis.call('PUBLISH', K.roomsChanged, room)
  end
  return redis.call('HGETALL', rk)
else
  if not exists then return 0 end
  redis.call('DEL', rk)
  redis.call('ZREM', KEYS[1], room)
  -- Deleting a room makes it private at once: a camera still publishing it streams to token holders only.
  redis.call('SREM', K.publicRooms, room)
  redis.call('PUBLISH', K.roomsChanged, room)
  return 1
end
