import { Counter, Registry, collectDefaultMetrics } from 'prom-client';

/** The registry's Prometheus metrics (all `framecast_registry_*`). */
export class RegistryMetrics {
  readonly register: Registry;
  readonly heartbeats: Counter;
  readonly sweeps: Counter;
  readonly expired: Counter<'what'>;
  readonly events: Counter<'type'>;
  readonly deliveries: Counter<'outcome'>;
  readonly authFailures: Counter<'kind'>;
  readonly authLimited: Counter<'kind'>;

  constructor(opts: { register?: Registry; defaultMetrics?: boolean } = {}) {
    const register = (this.register = opts.register ?? new Registry());
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register, prefix: 'framecast_registry_' });
    const registers = [register];
    this.heartbeats = new Counter({ name: 'framecast_registry_heartbeats_total', help: 'Agent heartbeats accepted', registers });
    this.sweeps = new Counter({ name: 'framecast_registry_sweeps_total', help: 'Sweeps run by this replica', registers });
    this.expired = new Counter({
      name: 'framecast_registry_expired_total',
      help: 'What sweeps expired: what=camera|gateway|viewer, and room (offline transitions)',
      labelNames: ['what'],
      registers,
    });
    this.events = new Counter({ name: 'framecast_registry_events_dispatched_total', help: 'Events turned into webhook jobs, by type', labelNames: ['type'], registers });
    this.deliveries = new Counter({
      name: 'framecast_registry_webhook_deliveries_total',
      help: 'Webhook delivery attempts: outcome=ok|http_error|no_response|blocked (receiver address not allowed; not retried)',
      labelNames: ['outcome'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'framecast_registry_auth_failures_total',
      help: 'Wrong admin or agent keys presented: kind=admin|agent',
      labelNames: ['kind'],
      registers,
    });
    this.authLimited = new Counter({
      name: 'framecast_registry_auth_limited_total',
      help: 'Requests answered 429 because their address failed too many key checks: kind=admin|agent',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['admin', 'agent']) {
      this.authFailures.inc({ kind }, 0);
      this.authLimited.inc({ kind }, 0);
    }
  }
}
