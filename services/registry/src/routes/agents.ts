import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { CHANNEL_PREFIX, clusterLastFrameKey, frameChannel, lastFrameKey, VARIANT_SEPARATOR } from '@framecast/protocol';
import type { AgentKeyRecord, RegistryStore } from '@framecast/registry-store';
import type { TypedApp } from '../api.ts';
import { adminOnly, agentAllowedRooms, sha256Hex } from '../auth-guards.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { AgentKeyCreate, AgentKeyCreated, AgentKeyList, AgentParams, ErrorBody, Heartbeat, HeartbeatResponse, IdParams, withErrors, NoContent } from '../schemas.ts';

/**
 * The publish side of an agent key, for Redis (7.0 or newer): a user that may only PUBLISH to its
 * rooms' channels (and their variants') and SET their last-frame keys, ask PUBSUB NUMSUB, write-only (`%W~`: no GET, no `SET … GET`, no
 * other key), plus what ioredis sends on connect: HELLO (RESP3 and AUTH), CLIENT SETNAME, SELECT
 * when the URL names a database. No INFO: the agent's connection skips ioredis's INFO ready check
 * (RedisFrameBus `readyCheck: false`). PING is allowed so credentials can be checked by hand. Its
 * password is the agent key itself, stored by Redis as the same SHA-256 the registry keeps
 * (`#<hex>`), so neither ever holds the key in the clear. The agent then connects as
 * redis://framecast-agent-<id>:<agent key>@host:6379.
 *
 * The same line serves a Redis Cluster (apply it on every node: ACLs are per node): there the
 * agent SPUBLISHes, stores `{video_<room>}:last`, asks PUBSUB SHARDNUMSUB and reads the slot map
 * (CLUSTER SLOTS). Those forms name the same rooms, so the user reaches nothing more.
 */
export function redisAclFor(key: AgentKeyRecord): string {
  const any = key.rooms.includes('*');
  // Each room and its variants (`video_<room>~small`: `~` never occurs in a room name, so the
  // pattern cannot reach another room).
  const keys = any
    ? [`%W~${CHANNEL_PREFIX}*:last`, `%W~{${CHANNEL_PREFIX}*}:last`]
    : key.rooms.flatMap((r) => [
        `%W~${lastFrameKey(r)}`,
        `%W~${CHANNEL_PREFIX}${r}${VARIANT_SEPARATOR}*:last`,
        `%W~${clusterLastFrameKey(r)}`,
        `%W~{${CHANNEL_PREFIX}${r}${VARIANT_SEPARATOR}*}:last`,
      ]);
  const channels = any ? [`&${CHANNEL_PREFIX}*`] : key.rooms.flatMap((r) => [`&${frameChannel(r)}`, `&${frameChannel(r)}${VARIANT_SEPARATOR}*`]);
  return [`ACL SETUSER framecast-agent-${key.id} reset on #${key.sha256}`, ...keys, ...channels, AGENT_ACL_COMMANDS].join(' ');
}

/**
 * The commands an agent's Redis user may run (see redisAclFor). PUBSUB NUMSUB is how it learns
 * whether a gateway watches one of its variants (it reveals subscriber counts, not frames).
 */
export const AGENT_ACL_COMMANDS = '+publish +set +pubsub|numsub +spublish +pubsub|shardnumsub +cluster|slots +hello +client|setname +select +ping';

/** Creates an agent key for `rooms` and returns the key itself (shown once; only its hash is kept). */
export async function createAgentKey(store: RegistryStore, name: string, rooms: string[]): Promise<{ record: AgentKeyRecord; key: string }> {
  const key = `fca_${randomBytes(32).toString('base64url')}`;
  const record: AgentKeyRecord = { id: randomBytes(8).toString('hex'), name, rooms, sha256: sha256Hex(key), createdAt: Date.now() };
  await store.putAgentKey(record);
  return { record, key };
}

const view = (k: AgentKeyRecord) => ({ id: k.id, name: k.name, rooms: k.rooms, createdAt: k.createdAt, redisAcl: redisAclFor(k) });

export function registerAgentRoutes(app: TypedApp, ctx: ApiContext): void {
  const admin = adminOnly(ctx);
  const security = [{ adminKey: [] }];
  // Filled by the heartbeat's onRequest hook (before the body is parsed), read by its handler.
  const allowedByRequest = new WeakMap<FastifyRequest, Set<string> | '*'>();

  app.post(
    '/agents/:agentId/heartbeat',
    {
      onRequest: async (req) => {
        allowedByRequest.set(req, await agentAllowedRooms(req, ctx));
      },
      schema: {
        summary: "An agent's heartbeat: its cameras and their stats", operationId: 'postAgentHeartbeat',
        description: 'Send every few seconds. A camera silent for FRAMECAST_AGENT_TIMEOUT_MS is dropped; a room with no camera left goes offline.',
        tags: ['agents'],
        security: [{ agentKey: [] }],
        params: AgentParams,
        body: Heartbeat,
        response: withErrors({ 200: HeartbeatResponse }),
      },
    },
    async (req) => {
      const allowed = allowedByRequest.get(req) ?? new Set<string>();
      req.body.cameras.forEach((cam, i) => {
        if (allowed !== '*' && !allowed.has(cam.room)) {
          throw new ApiError('forbidden', `this agent key does not allow room ${cam.room}`, `cameras[${i}].room`);
        }
      });
      const wentOnline = await ctx.store.heartbeat(req.params.agentId, req.body.cameras, Date.now(), ctx.config.FRAMECAST_CAMERA_ROOM_VISIBILITY);
      ctx.metrics.heartbeats.inc();
      return { accepted: req.body.cameras.length, wentOnline };
    },
  );

  app.post(
    '/agent-keys',
    {
      onRequest: admin,
      schema: {
        summary: 'Create an agent key limited to some rooms', operationId: 'createAgentKey',
        description: 'The key is in the answer once; the registry keeps only its SHA-256.',
        tags: ['agents'],
        security,
        body: AgentKeyCreate,
        response: withErrors({ 201: AgentKeyCreated }),
      },
    },
    async (req, reply) => {
      const { record, key } = await createAgentKey(ctx.store, req.body.name, req.body.rooms);
      return reply.code(201).send({ ...view(record), key });
    },
  );

  app.get('/agent-keys', { onRequest: admin, schema: { summary: 'List agent keys', operationId: 'listAgentKeys', tags: ['agents'], security, response: withErrors({ 200: AgentKeyList }) } }, async () => ({
    keys: (await ctx.store.listAgentKeys()).map(view),
  }));

  app.delete(
    '/agent-keys/:id',
    { onRequest: admin, schema: { summary: 'Revoke an agent key', operationId: 'deleteAgentKey', tags: ['agents'], security, params: IdParams, response: withErrors({ 204: NoContent }) } },
    async (req, reply) => {
      if (!(await ctx.store.deleteAgentKey(req.params.id))) throw new ApiError('agent_key_not_found', `no agent key ${req.params.id}`);
      return reply.code(204).send(null);
    },
  );
}
