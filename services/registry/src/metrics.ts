import { Counter, Gauge, Registry } from 'prom-client';
import { collectNodeMetrics, HttpRequestMetrics, zeroCounter } from '@framecast/metrics';
import { WEBHOOK_EVENTS } from '@framecast/protocol';
import type { RegistryCounts } from '@framecast/registry-store';

/** What a webhook delivery attempt came to (the `outcome` label). */
export const DELIVERY_OUTCOMES = ['ok', 'http_error', 'no_response', 'blocked'] as const;
/** What a sweep expires (the `what` label); `room` is a room going offline. */
export const EXPIRED_WHAT = ['camera', 'room', 'gateway', 'viewer'] as const;
const AUTH_KINDS = ['admin', 'agent'] as const;
/** The registry's own HTTP routes, declared at 0 so request-duration series exist before traffic. */
const OPS_ROUTES = ['/healthz', '/readyz', '/metrics'];

/** Where the gauges of rooms, cameras and viewers come from; read when Prometheus scrapes. */
export interface RegistryStateSource {
  counts(): Promise<RegistryCounts>;
  /** The store is connected and answering. */
  up(): boolean;
}

/**
 * The registry's Prometheus metrics (all `framecast_registry_*` plus `http_request_duration_seconds`
 * and Node's `process_*`/`nodejs_*`; docs/METRICS.md). No label names a room, viewer or agent: the
 * registry puts no limit on rooms, so a per-room label could not be bounded. The gauges of rooms,
 * cameras and viewers are the same on every replica (they read the shared store): aggregate them
 * with max(), not sum().
 */
export class RegistryMetrics {
  readonly register: Registry;
  readonly heartbeats: Counter;
  readonly sweeps: Counter;
  readonly expired: Counter<'what'>;
  readonly events: Counter<'type'>;
  readonly deliveries: Counter<'outcome'>;
  readonly authFailures: Counter<'kind'>;
  readonly authLimited: Counter<'kind'>;
  readonly http: HttpRequestMetrics;
  private state: RegistryStateSource | null = null;
  /** One store read serves scrapes that arrive together (two Prometheus servers, say). */
  private reading: Promise<RegistryCounts | null> | null = null;

  constructor(opts: { register?: Registry; defaultMetrics?: boolean } = {}) {
    const register = (this.register = opts.register ?? new Registry());
    if (opts.defaultMetrics ?? true) collectNodeMetrics(register);
    const registers = [register];
    this.http = new HttpRequestMetrics(register);
    for (const route of OPS_ROUTES) this.http.declare(route);
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
    // Every known label value at 0 from the start (see zeroCounter).
    zeroCounter(this.expired, 'what', EXPIRED_WHAT);
    zeroCounter(this.events, 'type', WEBHOOK_EVENTS);
    zeroCounter(this.deliveries, 'outcome', DELIVERY_OUTCOMES);
    zeroCounter(this.authFailures, 'kind', AUTH_KINDS);
    zeroCounter(this.authLimited, 'kind', AUTH_KINDS);

    const metrics = this;
    const stateGauge = (name: string, help: string, pick: (c: RegistryCounts) => number) =>
      new Gauge({
        name,
        help,
        registers,
        // Absent while the store cannot be read (framecast_registry_store_up says so): a stale or
        // zero count would read as "every room went offline".
        async collect(this: Gauge) {
          const counts = await metrics.readCounts();
          if (counts) this.set(pick(counts));
          else this.reset();
        },
      });
    stateGauge('framecast_registry_rooms', 'Room records', (c) => c.rooms);
    stateGauge('framecast_registry_rooms_live', 'Rooms with at least one camera heartbeating within FRAMECAST_AGENT_TIMEOUT_MS', (c) => c.roomsLive);
    stateGauge('framecast_registry_cameras', 'Cameras heartbeating within FRAMECAST_AGENT_TIMEOUT_MS', (c) => c.cameras);
    stateGauge('framecast_registry_viewers', 'Viewers reported by gateways that are alive (presence)', (c) => c.viewers);
    stateGauge('framecast_registry_gateways', 'Gateways reporting presence within FRAMECAST_GATEWAY_TIMEOUT_MS', (c) => c.gateways);
    new Gauge({
      name: 'framecast_registry_store_up',
      help: '1 while the registry store (Redis) is connected and answering; the embedded in-memory store is always up',
      registers,
      collect(this: Gauge) {
        this.set(metrics.state === null || metrics.state.up() ? 1 : 0);
      },
    });
  }

  /** Where the state gauges read from (the registry's store); without it they are absent. */
  observeState(source: RegistryStateSource): void {
    this.state = source;
  }

  /** The store's counts for this scrape, or null when there is no store or it cannot be read. */
  readCounts(): Promise<RegistryCounts | null> {
    const state = this.state;
    if (!state) return Promise.resolve(null);
    // The five gauges collect concurrently (prom-client's Promise.all): they share this read, and
    // the next scrape reads afresh.
    this.reading ??= state
      .counts()
      .catch(() => null)
      .finally(() => setImmediate(() => (this.reading = null)));
    return this.reading;
  }
}
