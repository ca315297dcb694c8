import { createHash } from 'node:crypto';
import { BULLMQ_PREFIX, CHANNEL_PREFIX, REGISTRY_KEY_PREFIX, REGISTRY_KEY_TEMPLATES as T } from '@framecast/protocol';

/**
 * Redis users for the services of a deployment (issue 14, item 3): `ACL SETUSER` lines for the
 * gateway and the registry. Agents have their own per-key users (routes/agents.ts redisAclFor).
 * Passwords appear only as their SHA-256 (`#<hex>`), as for agent keys, so `ACL LIST` and the
 * printed lines do not reveal them.
 */
export const GATEWAY_USER = 'framecast-gateway';
export const REGISTRY_USER = 'framecast-registry';

/** `<room>` / `<gateway>` slots of a key template become `*` (room and gateway ids never contain `:`). */
const pattern = (template: string) => template.replace(/<[a-z]+>/g, '*');

/**
 * What every framecast connection does besides its job: ioredis's HELLO (with AUTH), CLIENT
 * SETNAME (connectionName), SELECT (a database in the URL), the liveness watchdog's PING, and QUIT.
 */
const CONNECTION_COMMANDS = ['+hello', '+client|setname', '+select', '+ping', '+quit'];

/**
 * What a connection to a Redis Cluster adds: reading the slot map (ioredis's start and refresh)
 * and CLUSTER INFO (its ready check). Harmless on a single Redis, so every line carries them and
 * one set of users serves both (ACLs are per node: apply the lines on every node of a cluster).
 */
const CLUSTER_COMMANDS = ['+cluster|slots', '+cluster|info'];

/**
 * The gateway: subscribes to frame channels (rooms and their `~variant`s) and reads their
 * last-frame keys (RedisFrameBus); reads the public room set and listens for its change notice;
 * writes presence through the presence script (EVALSHA, EVAL after a Redis restart), which touches
 * the keys listed below with the commands listed below (Redis checks a script's calls against the
 * user as well). INFO is ioredis's ready check on the bus's connections (readyCheck is on
 * for gateways). No PUBLISH and no SET: a gateway user cannot put frames on the bus (so browser
 * publishing, /ws/publish, needs `gatewayPublish`).
 */
export function gatewayAcl(password: string, opts: { gatewayPublish?: boolean } = {}): string {
  const keys = [
    `%R~${CHANNEL_PREFIX}*:last`,
    // The last-frame key on a cluster: `{video_<stream>}:last`, in its channel's slot.
    `%R~{${CHANNEL_PREFIX}*}:last`,
    `%R~${T.publicRooms}`,
    `%R~${T.viewerEventsWanted}`,
    // presence.lua (and the prelude's recordPresence/removeViewer)
    `~${T.gateways}`,
    `~${pattern(T.gatewayRooms)}`,
    `~${pattern(T.roomGateways)}`,
    `~${pattern(T.roomPresence)}`,
    `~${pattern(T.roomHistory)}`,
    `~${T.events}`,
  ];
  const channels = [`&${CHANNEL_PREFIX}*`, `&${T.roomsChanged}`];
  // A script's own commands are checked against the user too: presence.lua's are listed here.
  const presence = ['+exists', '+zscore', '+zadd', '+hget', '+hsetnx', '+hdel', '+hlen', '+hkeys', '+sadd', '+srem', '+xadd', '+pexpire'];
  // SSUBSCRIBE / SUNSUBSCRIBE: frames on a cluster's sharded pub/sub.
  const commands = ['+get', '+smembers', '+evalsha', '+eval', ...presence, '+subscribe', '+unsubscribe', '+ssubscribe', '+sunsubscribe', '+info', ...CONNECTION_COMMANDS, ...CLUSTER_COMMANDS];
  if (opts.gatewayPublish) {
    keys.push(`%W~${CHANNEL_PREFIX}*:last`, `%W~{${CHANNEL_PREFIX}*}:last`);
    commands.push('+publish', '+spublish', '+set');
  }
  return [`ACL SETUSER ${GATEWAY_USER} reset on ${secret(password)}`, ...keys, ...channels, '-@all', ...commands].join(' ');
}

/**
 * The registry: every `{framecast}:*` key and channel (its records, presence, events, and BullMQ's
 * keys under `{framecast}:bull`), by command category: data commands, scripts (its Lua scripts and
 * BullMQ's), transactions, blocking pops (BullMQ workers, the events reader) and pub/sub, minus
 * everything @admin or @dangerous (FLUSHALL, CONFIG, KEYS, DEBUG, CLIENT LIST/KILL, …). Added back
 * by name: INFO (ioredis's ready check and BullMQ's version check) and TIME (BullMQ's scripts).
 */
export function registryAcl(password: string): string {
  const categories = ['+@read', '+@write', '+@scripting', '+@transaction', '+@blocking', '+@pubsub', '-@admin', '-@dangerous'];
  return [
    `ACL SETUSER ${REGISTRY_USER} reset on ${secret(password)}`,
    `~${REGISTRY_KEY_PREFIX}*`,
    `&${REGISTRY_KEY_PREFIX}*`,
    '-@all',
    ...categories,
    '+info',
    '+time',
    ...CONNECTION_COMMANDS,
    ...CLUSTER_COMMANDS,
  ].join(' ');
}

export interface ServiceAclOptions {
  gatewayPassword: string;
  registryPassword: string;
  gatewayPublish?: boolean;
}

/** The `ACL SETUSER` lines of a deployment: the gateway's user, then the registry's. */
export function serviceAclLines(opts: ServiceAclOptions): string[] {
  return [gatewayAcl(opts.gatewayPassword, { gatewayPublish: opts.gatewayPublish }), registryAcl(opts.registryPassword)];
}

function secret(password: string): string {
  if (!password) throw new Error('a password is required for every service user');
  return `#${createHash('sha256').update(password).digest('hex')}`;
}

// Keeps the BullMQ prefix and the registry's key prefix in step: BullMQ's keys must fall under `~{framecast}:*`.
if (!BULLMQ_PREFIX.startsWith(REGISTRY_KEY_PREFIX)) throw new Error(`BullMQ prefix ${BULLMQ_PREFIX} is outside ${REGISTRY_KEY_PREFIX}*`);
