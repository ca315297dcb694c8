-- Prepended to every framecast script when it is loaded (see ../lua-script.ts).
-- K holds the key templates of packages/protocol/src/registry-keys.ts, spliced in at load time,
-- so key names exist in one place. Every key shares the {framecast} hash tag: in a cluster they
-- live in the slot of KEYS[1], which is why scripts may derive further keys from K.
local K = __KEY_TEMPLATES__

local function key(name, room, gateway, id)
  local k = K[name]
  if room then k = string.gsub(k, '<room>', room) end
  if gateway then k = string.gsub(k, '<gateway>', gateway) end
  if id then k = string.gsub(k, '<id>', id) end
  return k
end

-- Appends a join/leave to the room's history (trimmed to the last hour by entry id, which is a
-- timestamp) and, when some webhook wants viewer events, to the events stream.
local function recordPresence(ctx, room, event, gw, id, user, reason)
  local hist = key('roomHistory', room)
  local fields = {'e', event, 'v', id, 'g', gw}
  if user then fields[#fields + 1] = 'u'; fields[#fields + 1] = user end
  if reason then fields[#fields + 1] = 'r'; fields[#fields + 1] = reason end
  redis.call('XADD', hist, 'MINID', '~', ctx.historyMinId, '*', unpack(fields))
  ctx.touched[hist] = true
  if ctx.viewerEvents then
    redis.call('XADD', K.events, 'MAXLEN', '~', ctx.eventsMax, '*', 'type', 'viewer.' .. event, 'room', room,
      'at', ctx.now, 'viewer', gw .. '/' .. id, 'gateway', gw, 'user', user or '', 'reason', reason or '')
  end
end

-- Histories of rooms nobody joins any more expire by themselves an hour after the last entry.
local function expireTouched(ctx)
  for hist in pairs(ctx.touched) do redis.call('PEXPIRE', hist, ctx.historyMaxAge) end
end

local function presenceContext(now, historyMaxAge, eventsMax)
  return {
    now = now,
    historyMaxAge = historyMaxAge,
    historyMinId = tostring(math.max(0, now - historyMaxAge)),
    eventsMax = eventsMax,
    viewerEvents = redis.call('EXISTS', K.viewerEventsWanted) == 1,
    touched = {},
  }
end

-- Removes one viewer of gateway `gw`; records the leave only if the viewer was there.
local function removeViewer(ctx, room, gw, id, reason)
  local pk = key('roomPresence', room, gw)
  local entry = redis.call('HGET', pk, id)
  if not entry then return 0 end
  redis.call('HDEL', pk, id)
  if redis.call('HLEN', pk) == 0 then
    redis.call('SREM', key('roomGateways', room), gw)
    redis.call('SREM', key('gatewayRooms', nil, gw), room)
  end
  local user = cjson.decode(entry).u
  if user == cjson.null then user = nil end
  recordPresence(ctx, room, 'left', gw, id, user, reason)
  return 1
end

-- The registry's own presence. Every replica refreshes `registryListening` with a short PX (and so
-- does every sweep); when a call finds it gone, no replica reached Redis for that long (all were
-- down, or cut off from Redis, or this is the first start), so no heartbeat could be recorded
-- meanwhile. It then sets `registryResumed` for one agent timeout: while that key exists the sweep
-- expires no camera, so every camera gets a full agent timeout after the registry's return to
-- heartbeat again. Both keys expire on Redis' clock: no replica's clock or memory is trusted with
-- how long the registry was away. Returns true when this call began such a grace.
local function noteListening(now, listeningTtlMs, graceMs)
  local absent = redis.call('EXISTS', K.registryListening) == 0
  redis.call('SET', K.registryListening, now, 'PX', listeningTtlMs)
  if absent then redis.call('SET', K.registryResumed, now, 'PX', graceMs) end
  return absent
end
