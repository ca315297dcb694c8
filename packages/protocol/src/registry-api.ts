/**
 * JSON bodies that cross process boundaries on the control path, shared by their writers and
 * readers. The registry validates them with JSON schemas (services/registry/src/schemas.ts);
 * these types describe the same shapes for the agents and gateways that produce them.
 */

/** What one camera (one room of one agent) reports in a heartbeat. */
export interface CameraReport {
  room: string;
  /** Frames published per second over the last heartbeat interval. */
  fps: number;
  width: number;
  height: number;
  /** Published JPEG bits per second over the last interval. */
  bitrateBps: number;
  /** Mean JPEG size of the frames in the last interval, bytes. */
  frameBytes: number;
  /**
   * Mean time from capture to Redis acknowledging the publish, ms, over the last interval: JPEG
   * encoding for sources the agent encodes (the test pattern stamps capture time before drawing)
   * plus the publish round trip.
   */
  captureToPublishMs: number;
  /** Frames captured but never published since the agent started (latest frame wins). */
  droppedFrames: number;
  /** Milliseconds since the last frame was published, when the heartbeat was sent; -1 if none yet. */
  lastFrameAgeMs: number;
  /** Whether the agent's frame bus (Redis) is up. */
  busUp: boolean;
}

export interface AgentHeartbeat {
  cameras: CameraReport[];
  /** The agent's heartbeat interval, so the registry can tell a slow agent from a dead one. */
  intervalMs: number;
  version: string;
}

export const WEBHOOK_EVENTS = ['room.online', 'room.offline', 'viewer.joined', 'viewer.left'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

/** The JSON body POSTed to a webhook receiver. */
export interface WebhookEvent {
  /** Unique per event; the same across delivery attempts (receivers de-duplicate on it). */
  id: string;
  type: WebhookEventType;
  room: string;
  /** ms since the Unix epoch, when the event happened. */
  occurredAt: number;
  data: Record<string, string | number | null>;
}

/** HTTP headers on every webhook delivery. The signature covers `${timestamp}.${body}`. */
export const WEBHOOK_HEADERS = {
  signature: 'x-framecast-signature',
  timestamp: 'x-framecast-timestamp',
  event: 'x-framecast-event',
  delivery: 'x-framecast-delivery',
} as const;
