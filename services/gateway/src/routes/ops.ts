import type { FastifyInstance } from 'fastify';
import { healthBody } from '@framecast/lifecycle';
import type { GatewayContext } from '../context.ts';

/**
 * Probes and metrics: /healthz (the process answers), /readyz (it can serve frames and decide
 * admission: a load balancer that sends a viewer here once it is ready must never see it refused
 * for what the gateway has not loaded yet), /metrics.
 */
export function registerOpsRoutes(app: FastifyInstance, { hub, bus, control, metrics, identity }: GatewayContext): void {
  // The body every framecast service answers with (@framecast/lifecycle healthBody); always 200.
  app.get('/healthz', async () => healthBody(identity, 'ok', { id: identity.id, viewers: hub.viewerCount, rooms: hub.subscriptions.size }));

  app.get('/readyz', async (_req, reply) => {
    const status = readiness({ hub, bus, control });
    if (status === 'draining') return reply.code(503).send({ status });
    if (status === 'bus_down') return reply.code(503).send({ status, bus: bus.kind, problem: bus.problem() });
    if (status === 'rooms_unknown') return reply.code(503).send({ status, message: 'the public room list has not loaded yet' });
    return { status, bus: bus.kind, viewers: hub.viewerCount, rooms: hub.subscriptions.size };
  });

  app.get('/metrics', async (_req, reply) => {
    const register = metrics.register;
    return reply.header('content-type', register.contentType).send(await register.metrics());
  });
}

/** What /readyz answers, in one place so the `framecast_gateway_ready` gauge can never disagree with it. */
export function readiness({ hub, bus, control }: Pick<GatewayContext, 'hub' | 'bus' | 'control'>): 'ready' | 'draining' | 'bus_down' | 'rooms_unknown' {
  if (hub.draining) return 'draining';
  if (!bus.isReady()) return 'bus_down';
  if (!control.auth.ready) return 'rooms_unknown';
  return 'ready';
}
