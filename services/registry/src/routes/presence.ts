import { HISTORY_MAX_AGE_MS } from '@framecast/registry-store';
import type { TypedApp } from '../api.ts';
import { adminOnly } from '../auth-guards.ts';
import type { ApiContext } from '../context.ts';
import { roomNotFound } from '../errors.ts';
import { HistoryList, HistoryQuery, RoomParams, ViewerList, withErrors } from '../schemas.ts';

export function registerPresenceRoutes(app: TypedApp, ctx: ApiContext): void {
  const admin = adminOnly(ctx);
  const security = [{ adminKey: [] }];

  app.get(
    '/rooms/:room/viewers',
    {
      onRequest: admin,
      schema: {
        summary: 'Who is watching: viewers on live gateways, with the user from their token', operationId: 'listRoomViewers',
        tags: ['presence'],
        security,
        params: RoomParams,
        response: withErrors({ 200: ViewerList }),
      },
    },
    async (req) => {
      const { room } = req.params;
      if (!(await ctx.store.getRoom(room))) throw roomNotFound(room);
      const viewers = await ctx.store.presence(room, Date.now(), ctx.liveness);
      const byGateway: Record<string, number> = {};
      for (const v of viewers) byGateway[v.gateway] = (byGateway[v.gateway] ?? 0) + 1;
      return { room, total: viewers.length, byGateway, viewers };
    },
  );

  app.get(
    '/rooms/:room/history',
    {
      onRequest: admin,
      schema: {
        summary: "The room's joins and leaves of the last hour, oldest first", operationId: 'getRoomHistory',
        tags: ['presence'],
        security,
        params: RoomParams,
        querystring: HistoryQuery,
        response: withErrors({ 200: HistoryList }),
      },
    },
    async (req) => {
      const { room } = req.params;
      if (!(await ctx.store.getRoom(room))) throw roomNotFound(room);
      const oldest = Date.now() - HISTORY_MAX_AGE_MS;
      const since = Math.max(oldest, req.query.since === undefined ? 0 : Number(req.query.since));
      return { room, since, entries: await ctx.store.history(room, since) };
    },
  );
}
