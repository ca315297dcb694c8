import type { EventEmitter } from 'node:events';

/** Called once per envelope arriving for a subscribed room. The Buffer must not be mutated. */
export type FrameListener = (room: string, envelope: Buffer) => void;

/**
 * Events: `ready` (connected and usable; after a reconnect subscriptions are restored),
 * `down` (lost the connection; the bus reconnects by itself), `reconnecting`.
 */
export interface FrameBus extends EventEmitter {
  readonly kind: 'redis' | 'memory';
  /** True while publish, subscribe and lastFrame can reach the broker. */
  isReady(): boolean;
  /**
   * Publishes to the room's channel and stores the envelope as the room's last frame for
   * `lastFrameTtlMs`. Rejects at once while the bus is down (nothing is queued).
   */
  publish(room: string, envelope: Buffer, lastFrameTtlMs: number): Promise<void>;
  /** Starts delivering the room's envelopes to the frame listener. Idempotent. */
  subscribe(room: string): Promise<void>;
  unsubscribe(room: string): Promise<void>;
  /** The room's last stored envelope, or null if none or expired. */
  lastFrame(room: string): Promise<Buffer | null>;
  /** The single listener for subscribed frames (the gateway's fan-out). */
  onFrame(listener: FrameListener): void;
  close(): Promise<void>;
}
