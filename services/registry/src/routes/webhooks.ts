import { randomBytes } from 'node:crypto';
import { DELIVERY_LOG_LENGTH, type WebhookRecord } from '@framecast/registry-store';
import type { TypedApp } from '../api.ts';
import { adminOnly } from '../auth-guards.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../errors.ts';
import { checkWebhookUrl } from '../webhooks/url-guard.ts';
import { DeliveryList, ErrorBody, DeliveryQuery, IdParams, WebhookCreate, WebhookCreated, WebhookList, WebhookView, withErrors, NoContent } from '../schemas.ts';

const view = ({ secret: _secret, ...hook }: WebhookRecord) => hook;

export function registerWebhookRoutes(app: TypedApp, ctx: ApiContext): void {
  const admin = adminOnly(ctx);
  const security = [{ adminKey: [] }];
  const tags = ['webhooks'];
  const find = async (id: string) => {
    const hook = await ctx.store.getWebhook(id);
    if (!hook) throw new ApiError('webhook_not_found', `no webhook ${id}`);
    return hook;
  };

  app.post(
    '/webhooks',
    {
      onRequest: admin,
      schema: {
        summary: 'Subscribe a URL to events, for one room or all', operationId: 'createWebhook',
        description:
          'Deliveries are POSTs signed with HMAC-SHA256 (see the README), retried with exponential backoff. URLs with credentials, ' +
          'schemes other than http(s), and hosts that are or resolve to loopback, private, link-local or other non-public addresses ' +
          'are refused (400, field url) unless FRAMECAST_WEBHOOK_ALLOW_HOSTS names them; deliveries check the address again.',
        tags,
        security,
        body: WebhookCreate,
        response: withErrors({ 201: WebhookCreated, 503: ErrorBody }),
      },
    },
    async (req, reply) => {
      if (!ctx.webhooksEnabled) throw new ApiError('webhooks_disabled', 'webhooks need Redis (REDIS_URL); this registry keeps its state in memory');
      let url: URL;
      try {
        url = new URL(req.body.url);
      } catch {
        throw new ApiError('invalid_request', 'url is not a valid URL', 'url');
      }
      // No internal addresses (SSRF): a name that does not resolve yet is accepted, as every
      // delivery resolves it again and checks each address before connecting.
      const verdict = await checkWebhookUrl(url, ctx.webhookGuard.allow, ctx.webhookGuard.lookup);
      if (!verdict.ok) throw new ApiError('invalid_request', `url refused: ${verdict.reason}; an operator can allow it with FRAMECAST_WEBHOOK_ALLOW_HOSTS`, 'url');
      const hook: WebhookRecord = {
        id: randomBytes(8).toString('hex'),
        url: req.body.url,
        events: req.body.events,
        room: req.body.room ?? null,
        secret: req.body.secret ?? randomBytes(32).toString('base64url'),
        createdAt: Date.now(),
      };
      await ctx.store.putWebhook(hook);
      return reply.code(201).send(hook);
    },
  );

  app.get('/webhooks', { onRequest: admin, schema: { summary: 'List webhooks (without secrets)', operationId: 'listWebhooks', tags, security, response: withErrors({ 200: WebhookList }) } }, async () => ({
    webhooks: (await ctx.store.listWebhooks()).map(view),
  }));

  app.get(
    '/webhooks/:id',
    { onRequest: admin, schema: { summary: 'One webhook (without its secret)', operationId: 'getWebhook', tags, security, params: IdParams, response: withErrors({ 200: WebhookView }) } },
    async (req) => view(await find(req.params.id)),
  );

  app.delete(
    '/webhooks/:id',
    { onRequest: admin, schema: { summary: 'Delete a webhook and its delivery log', operationId: 'deleteWebhook', tags, security, params: IdParams, response: withErrors({ 204: NoContent }) } },
    async (req, reply) => {
      if (!(await ctx.store.deleteWebhook(req.params.id))) throw new ApiError('webhook_not_found', `no webhook ${req.params.id}`);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      onRequest: admin,
      schema: { summary: 'Delivery attempts, newest first', operationId: 'listWebhookDeliveries', tags, security, params: IdParams, querystring: DeliveryQuery, response: withErrors({ 200: DeliveryList }) },
    },
    async (req) => {
      await find(req.params.id);
      const limit = Math.min(DELIVERY_LOG_LENGTH, Math.max(1, Number(req.query.limit ?? DELIVERY_LOG_LENGTH)));
      return { deliveries: await ctx.store.deliveries(req.params.id, limit) };
    },
  );
}
