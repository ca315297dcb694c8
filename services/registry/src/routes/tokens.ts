import type { TypedApp } from '../api.ts';
import { adminOnly } from '../auth-guards.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, roomNotFound } from '../errors.ts';
import { roomViews } from './rooms.ts';
import { ErrorBody, PublishTokenRequest, PublishTokenResponse, RoomParams, TokenRequest, TokenResponse, withErrors } from '../schemas.ts';

export function registerTokenRoutes(app: TypedApp, ctx: ApiContext): void {
  app.post(
    '/rooms/:room/tokens',
    {
      onRequest: adminOnly(ctx),
      // A POST without a body means "defaults": treat it as {} rather than a schema error.
      preValidation: async (req) => {
        req.body ??= {};
      },
      schema: {
        summary: 'Issue a viewer token (JWT, HS256) for this room', operationId: 'createViewerToken',
        description: 'Gateways verify it locally with FRAMECAST_TOKEN_SECRET. Pass it as ?token= on the websocket URL or as Authorization: Bearer.',
        tags: ['tokens'],
        security: [{ adminKey: [] }],
        params: RoomParams,
        body: TokenRequest,
        response: withErrors({ 201: TokenResponse, 409: ErrorBody }),
      },
    },
    async (req, reply) => {
      if (!ctx.signer) throw new ApiError('auth_disabled', 'the registry runs with FRAMECAST_AUTH=off: there is no secret to sign tokens with');
      const { room } = req.params;
      if (!(await ctx.store.getRoom(room))) throw roomNotFound(room);
      const user = req.body.user ?? null;
      const ttlSeconds = req.body.ttlSeconds ?? ctx.config.FRAMECAST_TOKEN_TTL_S;
      const { token, expiresAt } = await ctx.signer.issue({ rooms: [room], user, ttlSeconds });
      return reply.code(201).send({ token, room, user, expiresAt });
    },
  );

  app.post(
    '/rooms/:room/publish-tokens',
    {
      onRequest: adminOnly(ctx),
      preValidation: async (req) => {
        req.body ??= {};
      },
      schema: {
        summary: 'Issue a publish token (JWT, HS256) for this room', operationId: 'createPublishToken',
        description:
          'Lets a browser (or any websocket client) publish frames to the room through a gateway: GET /ws/publish/<room>, the token as the subprotocol framecast.token.<jwt> or Authorization: Bearer. Scoped: it never opens the room for viewing, and viewer tokens never publish. Refused (409 room_has_camera) while a capture agent reports a camera in the room, unless allowWithCamera is true.',
        tags: ['tokens'],
        security: [{ adminKey: [] }],
        params: RoomParams,
        body: PublishTokenRequest,
        response: withErrors({ 201: PublishTokenResponse, 409: ErrorBody }),
      },
    },
    async (req, reply) => {
      if (!ctx.signer) throw new ApiError('auth_disabled', 'the registry runs with FRAMECAST_AUTH=off: there is no secret to sign tokens with (gateways with auth off take publishers without a token)');
      const { room } = req.params;
      const record = await ctx.store.getRoom(room);
      if (!record) throw roomNotFound(room);
      // A room a capture agent feeds is that agent's: a browser publishing too would interleave two
      // cameras' frames. Live means a camera heartbeat within the agent timeout, as GET /rooms says.
      if (req.body.allowWithCamera !== true) {
        const [view] = await roomViews(ctx, [record]);
        if (view!.cameras.length > 0) {
          const agents = [...new Set(view!.cameras.map((c) => c.agentId))].join(', ');
          throw new ApiError('room_has_camera', `room ${room} has a live camera (agent ${agents}): pass allowWithCamera: true to publish to it anyway`);
        }
      }
      const user = req.body.user ?? null;
      const ttlSeconds = req.body.ttlSeconds ?? ctx.config.FRAMECAST_TOKEN_TTL_S;
      const { token, expiresAt } = await ctx.signer.issue({ rooms: [room], user, ttlSeconds, scope: 'publish' });
      return reply.code(201).send({ token, room, user, expiresAt });
    },
  );
}
