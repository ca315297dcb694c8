import type { Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { REDIS_PROBLEM_REASONS } from '@framecast/bus';
import { collectNodeMetrics, HttpRequestMetrics, UNMATCHED_ROUTE } from '@framecast/metrics';
import { FRAME_DROP_REASONS, type CameraStats } from './pipeline/camera-pipeline.ts';
import { RESTART_REASONS } from './sources/supervisor.ts';

/** The agent's HTTP routes (http-endpoints.ts): the `route` label of its request-duration histogram; any other path is `unmatched`. */
const AGENT_ROUTES = new Set(['/metrics', '/healthz']);

/**
 * The agent's Prometheus metrics (docs/METRICS.md), labelled by camera (bounded: the config file
 * lists at most 64). Counters and gauges are read from each camera's own counters when Prometheus
 * scrapes, so the frame path does no metric work beyond two histogram observations per published
 * frame. Node's process metrics carry their standard names (`process_*`, `nodejs_*`).
 */
export class AgentMetrics {
  readonly register: Registry;
  private readonly frameBytes: Histogram<'camera'>;
  private readonly publishLatency: Histogram<'camera'>;
  readonly http: HttpRequestMetrics;

  constructor(opts: { register?: Registry; defaultMetrics?: boolean; cameras: () => CameraStats[]; busUp: () => boolean }) {
    const register = (this.register = opts.register ?? new Registry());
    if (opts.defaultMetrics ?? true) collectNodeMetrics(register);
    const registers = [register];
    this.http = new HttpRequestMetrics(register);
    for (const route of AGENT_ROUTES) this.http.declare(route);
    const cameras = opts.cameras;

    this.frameBytes = new Histogram({
      name: 'framecast_agent_frame_bytes',
      help: 'Size of published envelopes (JPEG plus 32-byte header)',
      labelNames: ['camera'],
      buckets: [4096, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152],
      registers,
    });
    this.publishLatency = new Histogram({
      name: 'framecast_agent_capture_to_publish_seconds',
      help: 'Capture time (the frame leaving the source) to Redis acknowledging the publish',
      labelNames: ['camera'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });

    // Counters mirrored from the cameras' totals at scrape time: reset, then set by inc().
    const mirror = (name: string, help: string, labelNames: string[], fill: (c: Counter<string>, s: CameraStats) => void) =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        collect(this: Counter<string>) {
          this.reset();
          for (const s of cameras()) fill(this, s);
        },
      });
    mirror('framecast_agent_frames_captured_total', 'Valid JPEG frames delivered by the source', ['camera'], (c, s) => c.inc({ camera: s.camera }, s.captured));
    mirror('framecast_agent_frames_published_total', 'Frames published to video_<room>', ['camera'], (c, s) => c.inc({ camera: s.camera }, s.published));
    mirror(
      'framecast_agent_frames_dropped_total',
      'Frames not published, by reason: rate (camera faster than fps), truncated/corrupt/oversized (bad JPEG), superseded/bus_down/stale (latest frame wins)',
      ['camera', 'reason'],
      (c, s) => {
        for (const reason of FRAME_DROP_REASONS) c.inc({ camera: s.camera, reason }, s.dropped[reason]);
      },
    );
    mirror(
      'framecast_agent_last_frame_store_failures_total',
      'Published frames (viewers got them) whose last-frame SET failed, by reason: oom (Redis at maxmemory), readonly, noperm, timeout, …; not drops, the bus stays up',
      ['camera', 'reason'],
      (c, s) => {
        // Every reason, 0 included: a rate over a reason reads 0 instead of "no data".
        for (const reason of [...REDIS_PROBLEM_REASONS, 'other'] as const) c.inc({ camera: s.camera, reason }, s.lastFrameStoreFailures[reason] ?? 0);
      },
    );
    mirror('framecast_agent_variant_frames_total', 'Frames published to a variant stream (video_<room>~small), made only while a gateway watches it', ['camera', 'variant'], (c, s) => {
      for (const v of s.variants) c.inc({ camera: s.camera, variant: v.variant }, v.published);
    });
    mirror('framecast_agent_variant_encode_seconds_total', "CPU time spent scaling and encoding variant frames (a variant's whole cost)", ['camera', 'variant'], (c, s) => {
      for (const v of s.variants) c.inc({ camera: s.camera, variant: v.variant }, v.encodeSeconds);
    });
    mirror(
      'framecast_agent_source_restarts_total',
      'Source restarts, by reason: ended (stream finished), failed (could not open or broke), stalled (no frame within the stall timeout)',
      ['camera', 'reason'],
      (c, s) => {
        for (const reason of RESTART_REASONS) c.inc({ camera: s.camera, reason }, s.restarts[reason]);
      },
    );

    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge<string>) => void) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        collect(this: Gauge<string>) {
          this.reset();
          fill(this);
        },
      });
    gauge('framecast_agent_source_up', '1 while the camera delivers frames, 0 while it is starting or restarting', ['camera'], (g) => {
      for (const s of cameras()) g.set({ camera: s.camera }, s.state === 'streaming' ? 1 : 0);
    });
    gauge('framecast_agent_ffmpeg_up', "1 while the camera's ffmpeg process runs (ffmpeg-based sources only)", ['camera'], (g) => {
      for (const s of cameras()) if (s.kind !== 'http-mjpeg' && s.kind !== 'testsrc') g.set({ camera: s.camera }, s.ffmpegPid === null ? 0 : 1);
    });
    gauge('framecast_agent_variant_wanted', '1 while a gateway is subscribed to the camera variant (checked every FRAMECAST_VARIANT_CHECK_MS), so the agent makes it', ['camera', 'variant'], (g) => {
      for (const s of cameras()) for (const v of s.variants) g.set({ camera: s.camera, variant: v.variant }, v.wanted ? 1 : 0);
    });
    gauge('framecast_agent_last_frame_age_seconds', 'Seconds since the camera last delivered a frame (absent before the first)', ['camera'], (g) => {
      for (const s of cameras()) if (s.lastFrameAgeMs !== null) g.set({ camera: s.camera }, s.lastFrameAgeMs / 1000);
    });
    gauge('framecast_agent_bus_up', '1 while the Redis frame bus is connected', [], (g) => g.set(opts.busUp() ? 1 : 0));
  }

  /**
   * Times every request of the agent's HTTP server (its /metrics and /healthz) into
   * `http_request_duration_seconds`, as the other services' fastify hook does. The route label is
   * the path when it is one of the agent's routes, else `unmatched`, so clients cannot grow it.
   */
  instrumentHttp(server: Server): void {
    server.prependListener('request', (req, res) => {
      const started = process.hrtime.bigint();
      const path = (req.url ?? '/').split('?')[0]!;
      res.once('finish', () => {
        this.http.observe(AGENT_ROUTES.has(path) ? path : UNMATCHED_ROUTE, req.method ?? 'GET', res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
      });
    });
  }

  /** Once per published frame. */
  observePublished(camera: string, envelopeBytes: number, captureToPublishSeconds: number): void {
    this.frameBytes.observe({ camera }, envelopeBytes);
    this.publishLatency.observe({ camera }, captureToPublishSeconds);
  }
}
