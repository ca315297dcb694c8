import type { FastifyInstance } from 'fastify';
import { healthBody, type HealthIdentity } from '@framecast/lifecycle';
import type { ViewerAuth } from '../auth/viewer-auth.ts';
import type { ViewerHub } from '../viewer-hub.ts';

/**
 * Probes and metrics: /healthz (the process answers), /readyz (it can serve frames and decide
 * admission: a load balancer that sends a viewer here once it is ready must never see it refused
 * for what the gateway has not loaded yet), /metrics.
 */
export function registerOpsRoutes(app: FastifyInstance, hub: ViewerHub, auth: ViewerAuth, identity: HealthIdentity & { id: string }): void {
  // The body every framecast service answers with (@framecast/lifecycle healthBody); always 200.
  app.get('/healthz', async () => healthBody(identity, 'ok', { id: identity.id, viewers: hub.viewerCount, rooms: hub.subscriptions.size }));

  app.get('/readyz', async (_req, reply) => {
    if (hub.draining) return reply.code(503).send({ status: 'draining' });
    if (!hub.bus.isReady()) return reply.code(503).send({ status: 'bus_down', bus: hub.bus.kind, problem: hub.bus.problem() });
    if (!auth.ready) return reply.code(503).send({ status: 'rooms_unknown', message: 'the public room list has not loaded yet' });
    return { status: 'ready', bus: hub.bus.kind, viewers: hub.viewerCount, rooms: hub.subscriptions.size };
  });

  app.get('/metrics', async (_req, reply) => {
    const register = hub.metrics.register;
    return reply.header('content-type', register.contentType).send(await register.metrics());
  });
}
