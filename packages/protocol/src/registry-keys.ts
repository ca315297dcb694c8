import { assertRoomName } from './rooms.ts';

/**
 * Every Redis key and channel of the control path (registry, gateway presence, BullMQ) comes from
 * here, as templates with `<room>`, `<gateway>`, `<agent>`, `<id>`, `<kind>` and `<address>`
 * slots. The TypeScript helpers below fill them; the registry's Lua scripts receive the same
 * templates (spliced into the script source when it is loaded), so a key name is written down
 * exactly once.
 *
 * All keys share the hash tag `{framecast}`: in a Redis Cluster they live in one slot, so a Lua
 * script may touch any of them atomically. The control path's data is small (records, counters,
 * presence), so one slot is plenty; the frame path's `video_<room>` channels are not tagged.
 */
export const REGISTRY_KEY_PREFIX = '{framecast}:';

export const REGISTRY_KEY_TEMPLATES = {
  /** hash: a room record (title, description, visibility, createdAt, updatedAt) */
  room: '{framecast}:room:<room>',
  /** sorted set: room name -> createdAt (the room list) */
  rooms: '{framecast}:rooms',
  /**
   * set: names of the rooms whose record says public (gateways cache it). Privacy is the absence
   * from this set, so a room whose key is lost (deleted, FLUSHALL, an empty replica) is private.
   */
  publicRooms: '{framecast}:rooms:public',
  /** pub/sub channel: "a room's visibility changed", so gateways reload publicRooms at once */
  roomsChanged: '{framecast}:rooms:changed',
  /** string: exists while the room is live; SET NX / DEL make each transition happen once */
  roomLive: '{framecast}:room:<room>:live',
  /** hash: agent id -> camera report JSON, for the cameras publishing the room */
  roomCameras: '{framecast}:room:<room>:cameras',
  /** sorted set: "<room>/<agent>" -> last heartbeat (ms); the sweep expires from here */
  cameras: '{framecast}:cameras',
  /** sorted set: gateway id -> last presence report (ms); the sweep expires from here */
  gateways: '{framecast}:gateways',
  /** set: rooms where this gateway has viewers */
  gatewayRooms: '{framecast}:gateway:<gateway>:rooms',
  /** set: gateways with viewers of this room */
  roomGateways: '{framecast}:room:<room>:gateways',
  /** hash: viewer id -> {"u": user, "s": since} for one gateway's viewers of one room */
  roomPresence: '{framecast}:room:<room>:presence:<gateway>',
  /** stream: the room's join/leave history, trimmed to the last hour */
  roomHistory: '{framecast}:room:<room>:history',
  /** stream: events for webhooks (room.online/offline, viewer.joined/left), read by a consumer group */
  events: '{framecast}:events',
  /** string: set while any webhook wants viewer.* events; gateways skip writing them otherwise */
  viewerEventsWanted: '{framecast}:events:viewer-wanted',
  /** hash: webhook id -> webhook JSON */
  webhooks: '{framecast}:webhooks',
  /** list: the newest delivery attempts of one webhook (capped) */
  webhookDeliveries: '{framecast}:webhook:<id>:deliveries',
  /** hash: agent key id -> record JSON (the key itself is stored only as a SHA-256) */
  agentKeys: '{framecast}:agent-keys',
  /** hash: SHA-256 of an agent key -> its id */
  agentKeysByHash: '{framecast}:agent-keys:by-hash',
  /** string: failed admin/agent key checks from one client address in the current window (expires with it) */
  authFailures: '{framecast}:auth-failures:<kind>:<address>',
  /**
   * string: exists while some registry replica reaches Redis; every replica refreshes it with a
   * short PX, so its absence (judged by Redis' own clock) means no replica could take heartbeats
   */
  registryListening: '{framecast}:registry:listening',
  /**
   * string: exists for one agent timeout after the registry came back from such an absence (or
   * started for the first time); while it does, the sweep expires no camera (see sweep.lua)
   */
  registryResumed: '{framecast}:registry:resumed',
} as const;

export type RegistryKeyName = keyof typeof REGISTRY_KEY_TEMPLATES;

/** BullMQ's key prefix: its keys share the `{framecast}` tag with ours. */
export const BULLMQ_PREFIX = '{framecast}:bull';
export const WEBHOOK_QUEUE = 'webhooks';
export const SWEEP_QUEUE = 'sweep';
/** The consumer group on `events` that turns events into webhook jobs. */
export const EVENTS_CONSUMER_GROUP = 'webhooks';

/**
 * Gateway, agent, webhook and key ids: 1-64 characters of letters, digits, `.`, `_`, `-`,
 * starting with a letter or digit. Host names and pod names fit; `:` `/` `{` `}` never appear,
 * so an id cannot escape its key or split a "<room>/<agent>" member.
 */
export const NODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const NODE_ID_RULE = '1-64 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit';

export function isValidNodeId(id: unknown): id is string {
  return typeof id === 'string' && NODE_ID_PATTERN.test(id);
}

function nodeId(id: string): string {
  if (!isValidNodeId(id)) throw new Error(`invalid id ${JSON.stringify(String(id).slice(0, 80))}: ${NODE_ID_RULE}`);
  return id;
}

const T = REGISTRY_KEY_TEMPLATES;
export const registryKeys = {
  room: (room: string) => T.room.replace('<room>', assertRoomName(room)),
  rooms: () => T.rooms,
  publicRooms: () => T.publicRooms,
  roomsChanged: () => T.roomsChanged,
  roomLive: (room: string) => T.roomLive.replace('<room>', assertRoomName(room)),
  roomCameras: (room: string) => T.roomCameras.replace('<room>', assertRoomName(room)),
  cameras: () => T.cameras,
  gateways: () => T.gateways,
  gatewayRooms: (gateway: string) => T.gatewayRooms.replace('<gateway>', nodeId(gateway)),
  roomGateways: (room: string) => T.roomGateways.replace('<room>', assertRoomName(room)),
  roomPresence: (room: string, gateway: string) => T.roomPresence.replace('<room>', assertRoomName(room)).replace('<gateway>', nodeId(gateway)),
  roomHistory: (room: string) => T.roomHistory.replace('<room>', assertRoomName(room)),
  events: () => T.events,
  viewerEventsWanted: () => T.viewerEventsWanted,
  webhooks: () => T.webhooks,
  webhookDeliveries: (id: string) => T.webhookDeliveries.replace('<id>', nodeId(id)),
  agentKeys: () => T.agentKeys,
  agentKeysByHash: () => T.agentKeysByHash,
  authFailures: (kind: string, address: string) => T.authFailures.replace('<kind>', authKind(kind)).replace('<address>', clientAddress(address)),
  registryListening: () => T.registryListening,
  registryResumed: () => T.registryResumed,
} satisfies Record<RegistryKeyName, (...args: string[]) => string>;

function authKind(kind: string): string {
  if (kind !== 'admin' && kind !== 'agent') throw new Error(`invalid auth kind ${JSON.stringify(String(kind).slice(0, 20))}: admin or agent`);
  return kind;
}

/** A client address as a key part: IPv4/IPv6 characters kept, anything else replaced, at most 64. */
function clientAddress(address: string): string {
  return (address.replace(/[^0-9A-Za-z.:%_-]/g, '_') || '_').slice(0, 64);
}

/** Member of the `cameras` sorted set: room and agent, split at the one `/` neither can contain. */
export function cameraMember(room: string, agent: string): string {
  return `${assertRoomName(room)}/${nodeId(agent)}`;
}
