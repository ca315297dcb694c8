import type { RoomRecord } from '@framecast/registry-store';
import type { TypedApp } from '../api.ts';
import { adminOnly, hasAdminKey } from '../auth-guards.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, roomNotFound } from '../errors.ts';
import { ErrorBody, NoContent, RoomCreate, RoomList, RoomParams, RoomUpdate, RoomView, withErrors, type RoomViewBody } from '../schemas.ts';

/** Records joined with live status: cameras with a fresh heartbeat and viewers on live gateways. */
export async function roomViews(ctx: ApiContext, records: RoomRecord[]): Promise<RoomViewBody[]> {
  const now = Date.now();
  const status = await ctx.store.roomStatus(
    records.map((r) => r.name),
    now,
    ctx.liveness,
  );
  return records.map((r) => {
    const s = status.get(r.name)!;
    return {
      ...r,
      live: s.live,
      // Every figure is the agent's own, as of its heartbeat at lastHeartbeatAt. lastFrameAgeMs is
      // not aged by the time since: a live camera kept publishing meanwhile, so adding that time
      // reported seconds for a 15 fps camera whose newest frame was 66 ms old. A camera that
      // stalls says so in its next heartbeat (its figure grows); one whose agent died stops
      // heartbeating and is offline after the agent timeout.
      cameras: s.cameras.map(({ reportedAt, ...c }) => ({ ...c, lastHeartbeatAt: reportedAt })),
      viewers: s.viewers,
    };
  });
}

async function viewOf(ctx: ApiContext, name: string): Promise<RoomViewBody> {
  const record = await ctx.store.getRoom(name);
  if (!record) throw roomNotFound(name);
  return (await roomViews(ctx, [record]))[0]!;
}

/**
 * The public reads' OpenAPI security: anonymous (`{}`) or the admin key, which widens what they
 * answer (private rooms too). Said explicitly, so generated clients know the key is optional.
 */
const OPTIONAL_ADMIN: Array<Record<string, string[]>> = [{}, { adminKey: [] }];

export function registerRoomRoutes(app: TypedApp, ctx: ApiContext): void {
  const admin = adminOnly(ctx);

  app.post(
    '/rooms',
    { onRequest: admin, schema: { summary: 'Create a room', operationId: 'createRoom', tags: ['rooms'], security: [{ adminKey: [] }], body: RoomCreate, response: withErrors({ 201: RoomView, 409: ErrorBody }) } },
    async (req, reply) => {
      const now = Date.now();
      const { name, title = name, description = '', visibility = 'public' } = req.body;
      const created = await ctx.store.createRoom({ name, title, description, visibility, createdAt: now, updatedAt: now });
      if (!created) throw new ApiError('room_exists', `a room named ${name} exists already`, 'name');
      return reply.code(201).send(await viewOf(ctx, name));
    },
  );

  app.get(
    '/rooms',
    {
      schema: {
        summary: 'List rooms with live status, cameras and viewer counts', operationId: 'listRooms',
        description: 'Without the admin key only public rooms are listed (for viewer pages); a wrong key is a 403.',
        tags: ['rooms'],
        // Anonymous ({}) or with the admin key, which lists private rooms too.
        security: OPTIONAL_ADMIN,
        response: { 200: RoomList, 403: ErrorBody },
      },
    },
    async (req) => {
      const all = await ctx.store.listRooms();
      const visible = (await hasAdminKey(req, ctx)) ? all : all.filter((r) => r.visibility === 'public');
      return { rooms: await roomViews(ctx, visible) };
    },
  );

  app.get(
    '/rooms/:room',
    { schema: { summary: 'One room', operationId: 'getRoom', description: 'Private rooms need the admin key (404 without it).', tags: ['rooms'], security: OPTIONAL_ADMIN, params: RoomParams, response: withErrors({ 200: RoomView }) } },
    async (req) => {
      const view = await viewOf(ctx, req.params.room);
      if (view.visibility === 'private' && !(await hasAdminKey(req, ctx))) throw roomNotFound(req.params.room);
      return view;
    },
  );

  app.patch(
    '/rooms/:room',
    {
      onRequest: admin,
      schema: { summary: 'Change title, description or visibility', operationId: 'updateRoom', tags: ['rooms'], security: [{ adminKey: [] }], params: RoomParams, body: RoomUpdate, response: withErrors({ 200: RoomView }) },
    },
    async (req) => {
      const updated = await ctx.store.updateRoom(req.params.room, req.body, Date.now());
      if (!updated) throw roomNotFound(req.params.room);
      return (await roomViews(ctx, [updated]))[0]!;
    },
  );

  app.delete(
    '/rooms/:room',
    { onRequest: admin, schema: { summary: 'Delete a room record', operationId: 'deleteRoom', tags: ['rooms'], security: [{ adminKey: [] }], params: RoomParams, response: withErrors({ 204: NoContent }) } },
    async (req, reply) => {
      if (!(await ctx.store.deleteRoom(req.params.room))) throw roomNotFound(req.params.room);
      return reply.code(204).send(null);
    },
  );
}
