import { ENVELOPE_VERSION } from './envelope.ts';

/**
 * Publishing from a client (a browser tab's camera): `GET /ws/publish/<room>` on a gateway, with a
 * publish token. The client sends binary messages only, each one envelope (`encodeEnvelope`, codec
 * JPEG); the gateway checks every one and publishes it to the room's channel as a capture agent
 * would. It answers with text messages: a `hello` first, then `rejected` notes about dropped frames.
 */
export const PUBLISH_PATH_PREFIX = '/ws/publish/';

/**
 * Why the gateway did not publish a frame a publisher sent (the `result` label of
 * `framecast_gateway_publish_frames_total`, besides `published`):
 * - invalid: not an envelope, not a JPEG (SOI … EOI), a size outside 1–PUBLISH_MAX_DIMENSION or
 *   not the JPEG's own, or a text message;
 * - oversized: over the gateway's FRAMECAST_MAX_ENVELOPE_BYTES;
 * - rate: over FRAMECAST_MAX_PUBLISH_FPS;
 * - superseded: a newer frame arrived while the previous one was still being published (latest
 *   frame wins: at most one frame waits);
 * - bus_down: Redis was down or refused the publish.
 */
export const PUBLISH_DROP_REASONS = ['invalid', 'oversized', 'rate', 'superseded', 'bus_down'] as const;
export type PublishDropReason = (typeof PUBLISH_DROP_REASONS)[number];
export const PUBLISH_FRAME_RESULTS = ['published', ...PUBLISH_DROP_REASONS] as const;
export type PublishFrameResult = (typeof PUBLISH_FRAME_RESULTS)[number];

/** Widest and tallest frame a publisher may send, in pixels (4096: DCI 4K; a browser camera is far below). */
export const PUBLISH_MAX_DIMENSION = 4096;

/**
 * A capture time more than this far in the past, or any time in the future, is replaced by the
 * gateway's clock: a browser's clock may be off, and latency figures must not lie because of it.
 */
export const PUBLISH_MAX_CAPTURE_AGE_MS = 5000;

/** The gateway's first message to an accepted publisher: it is live, within these limits. */
export interface PublisherHelloMessage {
  type: 'hello';
  v: typeof ENVELOPE_VERSION;
  role: 'publisher';
  room: string;
  server: { id: string; version: string };
  /** Frames per second the gateway takes from this publisher; more are dropped (`rate`). */
  maxFps: number;
  /** Largest envelope, in bytes; larger ones are dropped (`oversized`), and ones over twice that close the connection (1009). */
  maxEnvelopeBytes: number;
  /** Largest width and height, in pixels. */
  maxDimension: number;
}

export function publisherHelloMessage(fields: Omit<PublisherHelloMessage, 'type' | 'v' | 'role' | 'maxDimension'>): string {
  const msg: PublisherHelloMessage = { type: 'hello', v: ENVELOPE_VERSION, role: 'publisher', ...fields, maxDimension: PUBLISH_MAX_DIMENSION };
  return JSON.stringify(msg);
}
