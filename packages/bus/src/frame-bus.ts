import type { EventEmitter } from 'node:events';

/**
 * Every method taking a `room` takes a stream name: a room, or a variant of one (`lobby~small`,
 * @framecast/protocol variants.ts), each on its own channel and last-frame key.
 */

/** Called once per envelope arriving for a subscribed room. The Buffer must not be mutated. */
export type FrameListener = (room: string, envelope: Buffer) => void;

/**
 * What a publish achieved when the frame went out: the PUBLISH reached the room's subscribers, and
 * the last-frame SET either worked or failed on its own (a full Redis refuses the SET with OOM but
 * still takes the PUBLISH). A publish whose PUBLISH failed rejects instead.
 */
export type PublishResult = { lastFrameStored: true } | { lastFrameStored: false; error: Error };

/**
 * Events: `ready` (connected, answering and usable; after a reconnect or a pause subscriptions are
 * restored), `down` (lost the connection, or Redis stopped answering; the bus recovers by itself),
 * `reconnecting`. On a Redis Cluster also `resubscribed` (sharded subscriptions re-established on a
 * new slot map), `degraded` (some primaries stopped answering while others answer: the bus stays
 * ready, those slots' rooms pause; the argument says which) and `undegraded`.
 */
export interface FrameBus extends EventEmitter {
  readonly kind: 'redis' | 'memory';
  /** True while publish, subscribe and lastFrame can reach the broker and it answers. */
  isReady(): boolean;
  /** Why the bus is not ready ("Redis refused authentication (WRONGPASS)", "Redis stopped answering …"); null while it is. */
  problem(): string | null;
  /**
   * Publishes to the room's channel and stores the envelope as the room's last frame for
   * `lastFrameTtlMs`. Rejects at once while the bus is down (nothing is queued), and when the
   * PUBLISH fails; a failed last-frame store alone resolves with `lastFrameStored: false`.
   */
  publish(room: string, envelope: Buffer, lastFrameTtlMs: number): Promise<PublishResult>;
  /** Starts delivering the room's envelopes to the frame listener. Idempotent. */
  subscribe(room: string): Promise<void>;
  unsubscribe(room: string): Promise<void>;
  /** The room's last stored envelope, or null if none or expired. */
  lastFrame(room: string): Promise<Buffer | null>;
  /**
   * How many bus clients (gateways) are subscribed to the stream right now (Redis PUBSUB NUMSUB):
   * how an agent learns that some viewer wants a variant. Rejects while the bus is down.
   */
  subscriberCount(stream: string): Promise<number>;
  /** The single listener for subscribed frames (the gateway's fan-out). */
  onFrame(listener: FrameListener): void;
  close(): Promise<void>;
}
