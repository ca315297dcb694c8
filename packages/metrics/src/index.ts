import { collectDefaultMetrics, Histogram, type Counter, type Registry } from 'prom-client';
import type { FastifyInstance } from 'fastify';

/**
 * Node's process and runtime metrics under prom-client's standard names (`process_*`, `nodejs_*`),
 * with no service prefix: stock Node.js dashboards work unchanged, and Prometheus tells the
 * services apart by the `job` and `instance` labels it adds at scrape time.
 */
export function collectNodeMetrics(register: Registry): void {
  // The event-loop delay monitor samples every 20 ms, not prom-client's 10: each sample wakes the
  // process (~14 µs), which was ~5 % of the capture agent's CPU per frame at 720p30 and a visible
  // share of a quiet gateway's. Lags from 20 ms up are still seen; the alert fires at p99 > 100 ms.
  collectDefaultMetrics({ register, eventLoopMonitoringPrecision: 20 });
  // Three of prom-client's gauges end in `_total`, which Prometheus reserves for counters
  // (`promtool check metrics` fails on them). Each is the sum of a labelled gauge prom-client
  // exposes too: nodejs_active_handles_total = sum(nodejs_active_handles), and so on.
  for (const name of PROMTOOL_NONCOMPLIANT_DEFAULTS) register.removeSingleMetric(name);
}

/** prom-client defaults left out, with the query that gives the same number (docs/METRICS.md). */
export const PROMTOOL_NONCOMPLIANT_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'] as const;

/** Methods named one by one in the `method` label; anything else a client sends is `other`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The `method` label: a known HTTP method, or `other` (a client cannot grow the label set). */
export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : 'other';
}

/** The `status_class` label: `2xx`, `3xx`, `4xx`, `5xx` (`1xx` and nonsense as `other`). */
export function statusClass(status: number): string {
  return status >= 200 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** The `route` label of requests no route matched (404s): never the raw path, which a client chooses. */
export const UNMATCHED_ROUTE = 'unmatched';

export const HTTP_REQUEST_DURATION = 'http_request_duration_seconds';

/**
 * `http_request_duration_seconds{route, method, status_class}`, one name in every service (told
 * apart by job, like the process metrics). Cardinality is bounded by construction: `route` is the
 * route pattern a service declares (`/api/rooms/:room`, never `/api/rooms/lobby`) or `unmatched`,
 * `method` is one of seven or `other`, `status_class` one of five.
 */
export class HttpRequestMetrics {
  readonly duration: Histogram<'route' | 'method' | 'status_class'>;

  constructor(register: Registry) {
    this.duration = new Histogram({
      name: HTTP_REQUEST_DURATION,
      help: 'HTTP requests served, by route pattern (unmatched: no route), method and status class; websocket sessions are not requests and are not counted',
      labelNames: ['route', 'method', 'status_class'],
      // API calls, probes and scrapes take milliseconds; the upper buckets catch a Redis that hangs
      // until the command timeout.
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [register],
    });
  }

  observe(route: string, method: string, status: number, seconds: number): void {
    this.duration.observe({ route, method: methodLabel(method), status_class: statusClass(status) }, seconds);
  }

  /**
   * Declares `route` with zero observations for `GET` answered `2xx`, so a dashboard or alert
   * reading it finds the series before the first request (a scraper's own request comes too late
   * to be in the first scrape).
   */
  declare(route: string, method = 'GET', status = 200): void {
    this.duration.zero({ route, method: methodLabel(method), status_class: statusClass(status) });
  }

  /**
   * Times every request of a fastify app (and the plugins registered on it after this call) with
   * fastify's own clock. The route label is the matched route's pattern.
   */
  instrument(app: FastifyInstance): void {
    app.addHook('onResponse', async (req, reply) => {
      this.observe(req.routeOptions.url ?? UNMATCHED_ROUTE, req.method, reply.statusCode, reply.elapsedTime / 1000);
    });
  }
}

/**
 * Sets every known value of a counter's label to 0, so the series exists from the start: a rate or
 * an alert over `{reason="stalled"}` then reads 0 instead of "no data" until the first stall, and a
 * counter's first increment is seen as an increase (a series that appears at 5 has no increase).
 */
export function zeroCounter<L extends string>(counter: Counter<L>, label: NoInfer<L>, values: readonly string[], fixed: Partial<Record<NoInfer<L>, string>> = {}): void {
  for (const value of values) counter.inc({ ...fixed, [label]: value } as Partial<Record<L, string | number>>, 0);
}
