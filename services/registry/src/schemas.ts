import { Type, type Static, type TSchema } from 'typebox';
import { NODE_ID_PATTERN, NODE_ID_RULE, ROOM_NAME_PATTERN, ROOM_NAME_RULE, WEBHOOK_EVENTS } from '@framecast/protocol';

/**
 * The API's JSON schemas. Routes validate requests with them and @fastify/swagger builds
 * /api/openapi.json from them, so the document cannot drift from what is enforced. Request
 * objects never allow unknown fields: a misspelt field is a 400, not silently ignored.
 */
const strict = { additionalProperties: false } as const;

export const RoomName = Type.String({ pattern: ROOM_NAME_PATTERN.source, description: ROOM_NAME_RULE });
export const NodeId = Type.String({ pattern: NODE_ID_PATTERN.source, description: NODE_ID_RULE });
export const Visibility = Type.Enum(['public', 'private'], { description: 'private rooms need a viewer token' });
const Title = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.String({ maxLength: 2000 });
const Millis = Type.Integer({ minimum: 0, description: 'ms since the Unix epoch' });
const Digits = (max: number, description: string) => Type.String({ pattern: `^[0-9]{1,${max}}$`, description });

export const RoomParams = Type.Object({ room: RoomName }, strict);
export const AgentParams = Type.Object({ agentId: NodeId }, strict);
export const IdParams = Type.Object({ id: NodeId }, strict);

export const RoomCreate = Type.Object(
  { name: RoomName, title: Type.Optional(Title), description: Type.Optional(Description), visibility: Type.Optional(Visibility) },
  strict,
);
export const RoomUpdate = Type.Object(
  { title: Type.Optional(Title), description: Type.Optional(Description), visibility: Type.Optional(Visibility) },
  { ...strict, minProperties: 1 },
);

export const CameraView = Type.Object({
  agentId: Type.String(),
  fps: Type.Number(),
  width: Type.Integer(),
  height: Type.Integer(),
  bitrateBps: Type.Number(),
  frameBytes: Type.Integer(),
  captureToPublishMs: Type.Number(),
  droppedFrames: Type.Integer(),
  lastFrameAgeMs: Type.Integer({ description: 'age (ms) of the newest frame the camera had published when its agent sent the heartbeat at lastHeartbeatAt, as the agent measured it; -1 if none yet. Not aged since: a live camera kept publishing' }),
  busUp: Type.Boolean(),
  lastHeartbeatAt: Millis,
});

export const ViewerCounts = Type.Object({
  total: Type.Integer(),
  byGateway: Type.Record(Type.String(), Type.Integer(), { description: 'gateway id -> viewers' }),
});

export const RoomView = Type.Object({
  name: RoomName,
  title: Type.String(),
  description: Type.String(),
  visibility: Visibility,
  live: Type.Boolean({ description: 'at least one camera heartbeat within the agent timeout' }),
  cameras: Type.Array(CameraView),
  viewers: ViewerCounts,
  createdAt: Millis,
  updatedAt: Millis,
});
export const RoomList = Type.Object({ rooms: Type.Array(RoomView) });

export const ViewerList = Type.Object({
  room: RoomName,
  total: Type.Integer(),
  byGateway: Type.Record(Type.String(), Type.Integer()),
  viewers: Type.Array(
    Type.Object({ id: Type.String(), gateway: Type.String(), user: Type.Union([Type.String(), Type.Null()]), since: Millis }),
  ),
});
export const HistoryQuery = Type.Object({ since: Type.Optional(Digits(15, 'ms since the Unix epoch; at most an hour back')) }, strict);
export const HistoryList = Type.Object({
  room: RoomName,
  since: Millis,
  entries: Type.Array(
    Type.Object({
      at: Millis,
      event: Type.Enum(['joined', 'left']),
      viewer: Type.String(),
      gateway: Type.String(),
      user: Type.Union([Type.String(), Type.Null()]),
      reason: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

export const TokenRequest = Type.Object(
  {
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f]+$', description: 'becomes the token subject, shown in presence' })),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 7 * 86_400 })),
  },
  strict,
);
export const TokenResponse = Type.Object({ token: Type.String(), room: RoomName, user: Type.Union([Type.String(), Type.Null()]), expiresAt: Millis });

export const PublishTokenRequest = Type.Object(
  {
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\u0000-\\u001f]+$', description: 'becomes the token subject, shown in the gateway logs' })),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 7 * 86_400, description: 'the token lifetime; a publisher still live when it ends is closed (4401 publish_token_expired)' })),
    allowWithCamera: Type.Optional(Type.Boolean({ description: 'issue it even though a capture agent reports a camera in this room (both would publish to it)' })),
  },
  strict,
);
export const PublishTokenResponse = Type.Object({
  token: Type.String({ description: 'a publish token: GET /ws/publish/<room> on a gateway, as the subprotocol framecast.token.<jwt> or Authorization: Bearer; never opens the room for viewing' }),
  room: RoomName,
  user: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Millis,
});

export const CameraReport = Type.Object(
  {
    room: RoomName,
    fps: Type.Number({ minimum: 0, maximum: 1000 }),
    width: Type.Integer({ minimum: 0, maximum: 65_535 }),
    height: Type.Integer({ minimum: 0, maximum: 65_535 }),
    bitrateBps: Type.Number({ minimum: 0, maximum: 1e11 }),
    frameBytes: Type.Integer({ minimum: 0, maximum: 64 * 1024 * 1024 }),
    captureToPublishMs: Type.Number({ minimum: 0, maximum: 3_600_000 }),
    droppedFrames: Type.Integer({ minimum: 0 }),
    lastFrameAgeMs: Type.Integer({ minimum: -1 }),
    busUp: Type.Boolean(),
  },
  strict,
);
export const Heartbeat = Type.Object(
  {
    cameras: Type.Array(CameraReport, { maxItems: 64 }),
    intervalMs: Type.Integer({ minimum: 100, maximum: 600_000 }),
    version: Type.String({ maxLength: 64 }),
  },
  strict,
);
export const HeartbeatResponse = Type.Object({ accepted: Type.Integer(), wentOnline: Type.Array(RoomName) });

const AllowedRoom = Type.String({ pattern: `^(\\*|${ROOM_NAME_PATTERN.source.slice(1, -1)})$`, description: 'a room name, or * for any room' });
export const AgentKeyCreate = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }), rooms: Type.Array(AllowedRoom, { minItems: 1, maxItems: 1000, uniqueItems: true }) },
  strict,
);
export const AgentKeyView = Type.Object({
  id: NodeId,
  name: Type.String(),
  rooms: Type.Array(Type.String()),
  createdAt: Millis,
  redisAcl: Type.String({ description: 'ACL SETUSER line limiting this agent to PUBLISH/SET on its rooms; the password is the agent key' }),
});
export const AgentKeyCreated = Type.Object({ ...AgentKeyView.properties, key: Type.String({ description: 'shown once' }) });
export const AgentKeyList = Type.Object({ keys: Type.Array(AgentKeyView) });

const EventType = Type.Enum([...WEBHOOK_EVENTS]);
export const WebhookCreate = Type.Object(
  {
    url: Type.String({
      minLength: 8,
      maxLength: 2048,
      pattern: '^https?://\\S+$',
      description: 'an http:// or https:// URL (no credentials; no loopback, private, link-local or other non-public host unless FRAMECAST_WEBHOOK_ALLOW_HOSTS allows it)',
    }),
    events: Type.Array(EventType, { minItems: 1, uniqueItems: true }),
    room: Type.Optional(Type.Union([RoomName, Type.Null()], { description: 'only this room; null or absent: every room' })),
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, description: 'HMAC key; generated when absent' })),
  },
  strict,
);
export const WebhookView = Type.Object({
  id: NodeId,
  url: Type.String(),
  events: Type.Array(EventType),
  room: Type.Union([RoomName, Type.Null()]),
  createdAt: Millis,
});
export const WebhookCreated = Type.Object({ ...WebhookView.properties, secret: Type.String({ description: 'shown once' }) });
export const WebhookList = Type.Object({ webhooks: Type.Array(WebhookView) });
export const DeliveryQuery = Type.Object({ limit: Type.Optional(Digits(3, 'newest first, at most 200')) }, strict);
export const DeliveryList = Type.Object({
  deliveries: Type.Array(
    Type.Object({
      deliveryId: Type.String(),
      eventId: Type.String(),
      event: EventType,
      room: Type.String(),
      attempt: Type.Integer(),
      ok: Type.Boolean(),
      status: Type.Union([Type.Integer(), Type.Null()]),
      error: Type.Union([Type.String(), Type.Null()]),
      durationMs: Type.Number(),
      at: Millis,
    }),
  ),
});

export const ErrorBody = Type.Object({ error: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) });

/** Responses every admin route may give besides its success. */
export function withErrors<T extends Record<number, TSchema>>(ok: T) {
  return { ...ok, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody };
}

export type RoomCreateBody = Static<typeof RoomCreate>;
export type RoomUpdateBody = Static<typeof RoomUpdate>;
export type HeartbeatBody = Static<typeof Heartbeat>;
export type RoomViewBody = Static<typeof RoomView>;

export const NoContent = Type.Null({ description: 'done; no body' });
