import type { TypedApp } from '../api.ts';
import { adminOnly } from '../auth-guards.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, roomNotFound } from '../errors.ts';
import { ErrorBody, RoomParams, TokenRequest, TokenResponse, withErrors } from '../schemas.ts';

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
}
