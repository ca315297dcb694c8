import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectNodeMetrics, HttpRequestMetrics, zeroCounter } from '@framecast/metrics';
import { ENVELOPE_ERROR_CODES, PUBLISH_FRAME_RESULTS, type ErrorName } from '@framecast/protocol';
import { CLOSE_CODE_LABELS } from './viewer-closes.ts';

/** Why a viewer is refused at connect: the close-table rows a connection can be refused with (the others close admitted viewers). */
export const VIEWER_REFUSAL_REASONS = [
  'invalid_room',
  'bad_request',
  'origin_forbidden',
  'shutting_down',
  'overloaded',
  'not_ready',
  'room_private',
  'unauthorized',
  'token_expired',
  'forbidden',
] as const satisfies readonly ErrorName[];

/** Why a browser publisher (/ws/publish/<room>) is refused at connect or closed by the gateway: close-table rows. */
export const PUBLISHER_REFUSAL_REASONS = [
  'invalid_room',
  'origin_forbidden',
  'shutting_down',
  'publish_unauthorized',
  'publish_token_expired',
  'forbidden',
  'room_busy',
] as const satisfies readonly ErrorName[];

/** Why a frame is not sent to a viewer: its socket was full, or its frame-rate cap (`?fps=N`) thinned it. */
export const FRAME_SKIP_REASONS = ['backpressure', 'fps_cap'] as const;

/** How viewers receive frames (the `transport` label). */
export const VIEWER_TRANSPORTS = ['websocket', 'mjpeg'] as const;

/** How a snapshot request (`GET /video/<room>.jpg`) ended. */
export const SNAPSHOT_RESULTS = ['served', 'not_modified', 'no_frame', 'refused'] as const;

/** What became of a message a viewer sent (`{"type":"options",...}`). */
export const VIEWER_MESSAGE_RESULTS = ['applied', 'rejected'] as const;

/** The gateway's own HTTP routes, declared at 0 so request-duration series exist before traffic. */
const OPS_ROUTES = ['/healthz', '/readyz', '/metrics'];

/**
 * The gateway's Prometheus metrics (docs/METRICS.md). Per-frame updates are O(1): counters are
 * incremented once per frame by the number of viewers served, never once per viewer. No label
 * names a viewer or a room: the gateway puts no limit on rooms, so neither could be bounded.
 */
export class GatewayMetrics {
  readonly register: Registry;
  readonly frameLatency: Histogram;
  readonly framesReceived: Counter;
  readonly framesDelivered: Counter;
  readonly framesSkipped: Counter<'reason'>;
  readonly framesInvalid: Counter<'reason'>;
  readonly framesLate: Counter;
  readonly bytesDelivered: Counter;
  readonly viewers: Gauge;
  readonly viewersByTransport: Gauge<'transport'>;
  readonly snapshots: Counter<'result'>;
  readonly viewerMessages: Counter<'result'>;
  readonly publishFrames: Counter<'result'>;
  readonly publishers: Gauge;
  readonly publishersRefused: Counter<'reason'>;
  readonly roomsSubscribed: Gauge;
  readonly viewersClosed: Counter<'code'>;
  readonly viewersRefused: Counter<'reason'>;
  readonly busReconnects: Counter;
  readonly busUp: Gauge;
  readonly bufferedBytes: Gauge;
  readonly ready: Gauge;
  readonly http: HttpRequestMetrics;

  /** Set by the viewer hub; read only when Prometheus scrapes, never per frame. */
  sampleBuffered: () => number = () => 0;
  /** Set by the gateway to what /readyz decides; read only when Prometheus scrapes. */
  sampleReady: () => boolean = () => false;

  constructor(opts: { register?: Registry; defaultMetrics?: boolean } = {}) {
    const register = (this.register = opts.register ?? new Registry());
    if (opts.defaultMetrics ?? true) collectNodeMetrics(register);
    const registers = [register];
    this.http = new HttpRequestMetrics(register);
    for (const route of OPS_ROUTES) this.http.declare(route);
    this.frameLatency = new Histogram({
      name: 'framecast_gateway_frame_latency_seconds',
      help: 'Capture time (from the envelope) to the moment the gateway hands the frame to viewer sockets',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.framesReceived = new Counter({ name: 'framecast_gateway_frames_received_total', help: 'Valid envelopes received from the bus', registers });
    this.framesDelivered = new Counter({ name: 'framecast_gateway_frames_delivered_total', help: 'Frames handed to viewer sockets (one per viewer per frame)', registers });
    this.bytesDelivered = new Counter({ name: 'framecast_gateway_bytes_delivered_total', help: 'Envelope bytes handed to viewer sockets', registers });
    this.framesSkipped = new Counter({
      name: 'framecast_gateway_frames_skipped_total',
      help: 'Frames not sent to a viewer; reason=backpressure: its socket held more than the byte bound (latest frame wins); reason=fps_cap: thinned to the frame rate the viewer asked for',
      labelNames: ['reason'],
      registers,
    });
    this.framesInvalid = new Counter({
      name: 'framecast_gateway_frames_invalid_total',
      help: 'Messages on video_<room> channels dropped because they are not valid envelopes, by decode error',
      labelNames: ['reason'],
      registers,
    });
    this.framesLate = new Counter({
      name: 'framecast_gateway_frames_late_total',
      help: 'Valid frames dropped because they are older (sequence and capture time) than the one their room already showed: a publish sent again after a Redis failover. Viewers never see video go backwards',
      registers,
    });
    this.viewers = new Gauge({ name: 'framecast_gateway_viewers', help: 'Connected viewers (websocket and MJPEG)', registers });
    this.viewersByTransport = new Gauge({ name: 'framecast_gateway_viewers_by_transport', help: 'Connected viewers by transport: websocket, mjpeg', labelNames: ['transport'], registers });
    this.snapshots = new Counter({
      name: 'framecast_gateway_snapshots_total',
      help: 'Snapshot requests (GET /video/<room>.jpg) by result: served, not_modified (304), no_frame (404), refused (bad input or auth)',
      labelNames: ['result'],
      registers,
    });
    this.viewerMessages = new Counter({
      name: 'framecast_gateway_viewer_messages_total',
      help: 'Messages websocket viewers sent: applied (an options message), rejected (anything else; the viewer is told why)',
      labelNames: ['result'],
      registers,
    });
    this.publishFrames = new Counter({
      name: 'framecast_gateway_publish_frames_total',
      help: 'Messages browser publishers (/ws/publish/<room>) sent, by result: published, or dropped as invalid (not a JPEG envelope of a sane size), oversized, rate (over FRAMECAST_MAX_PUBLISH_FPS), superseded (a newer frame replaced it while the bus was busy) or bus_down',
      labelNames: ['result'],
      registers,
    });
    this.publishers = new Gauge({ name: 'framecast_gateway_publishers', help: 'Browser publishers connected and live (at most one per room)', registers });
    this.publishersRefused = new Counter({
      name: 'framecast_gateway_publishers_refused_total',
      help: 'Browser publishers refused at connect, by close-table row (publish_unauthorized, forbidden, room_busy, ...)',
      labelNames: ['reason'],
      registers,
    });
    this.roomsSubscribed = new Gauge({ name: 'framecast_gateway_rooms_subscribed', help: 'Rooms this gateway is subscribed to on the bus', registers });
    this.viewersClosed = new Counter({
      name: 'framecast_gateway_viewers_closed_total',
      help:
        'Viewer connections closed, each counted once, by websocket close code: the gateway decided (4504 not answering pings, 4508 stalled, 1012, 4401, ...), ws refused a frame (1009 message too big, 1002 protocol error, 1007, 1008) or the client closed (1000, 1001, 1005, 1006 connection cut; other client codes as other)',
      labelNames: ['code'],
      registers,
    });
    this.viewersRefused = new Counter({
      name: 'framecast_gateway_viewers_refused_total',
      help: 'Viewer connections refused at connect, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.busReconnects = new Counter({ name: 'framecast_gateway_bus_reconnects_total', help: 'Reconnect attempts to the frame bus (Redis)', registers });
    this.busUp = new Gauge({ name: 'framecast_gateway_bus_up', help: '1 while the frame bus is connected', registers });
    this.bufferedBytes = new Gauge({
      name: 'framecast_gateway_viewer_buffered_bytes',
      help: 'Bytes written to viewer sockets and not yet taken by the kernel, summed over viewers (bounded per viewer)',
      registers,
      collect: () => this.bufferedBytes.set(this.sampleBuffered()),
    });
    this.ready = new Gauge({
      name: 'framecast_gateway_ready',
      help: '1 while /readyz answers 200 (bus connected, public rooms loaded, not draining), else 0',
      registers,
      collect: () => this.ready.set(this.sampleReady() ? 1 : 0),
    });
    // Every known label value at 0 from the start (see zeroCounter).
    zeroCounter(this.framesSkipped, 'reason', FRAME_SKIP_REASONS);
    zeroCounter(this.framesInvalid, 'reason', ENVELOPE_ERROR_CODES);
    zeroCounter(this.viewersClosed, 'code', CLOSE_CODE_LABELS);
    zeroCounter(this.viewersRefused, 'reason', VIEWER_REFUSAL_REASONS);
    zeroCounter(this.snapshots, 'result', SNAPSHOT_RESULTS);
    zeroCounter(this.viewerMessages, 'result', VIEWER_MESSAGE_RESULTS);
    zeroCounter(this.publishFrames, 'result', PUBLISH_FRAME_RESULTS);
    zeroCounter(this.publishersRefused, 'reason', PUBLISHER_REFUSAL_REASONS);
    for (const transport of VIEWER_TRANSPORTS) this.viewersByTransport.set({ transport }, 0);
  }
}
