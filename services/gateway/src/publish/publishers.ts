import type { GatewayMetrics } from '../metrics.ts';
import { Publisher, type PublisherOptions } from './publisher.ts';

/**
 * The browser publishers of this gateway: at most one per room. A second publisher for a room is
 * refused (4409 `room_busy`) while the first is connected; a first whose network vanished holds
 * the room until the ping rule closes it (one to two ping intervals).
 *
 * The rule holds per gateway replica. Behind a load balancer spreading connections over several
 * replicas, two publishers of one room could land on two replicas; a deployment that lets browsers
 * publish routes /ws/publish/ to one replica, or accepts that (both hold the room's publish token).
 */
/** How long shutdown waits for publishers to answer their close frames (as for viewers). */
const CLOSE_WAIT_MS = 2_000;

export class PublisherHub {
  private readonly byRoom = new Map<string, Publisher>();
  private nextId = 1;
  private readonly metrics: GatewayMetrics;

  constructor(metrics: GatewayMetrics) {
    this.metrics = metrics;
  }

  get size(): number {
    return this.byRoom.size;
  }

  /** The room's publisher, or null when it has one already (the caller refuses with `room_busy`). */
  add(opts: Omit<PublisherOptions, 'id' | 'onGone'>): Publisher | null {
    // A publisher the gateway is closing (its token ran out, it stopped answering) no longer holds the room.
    const current = this.byRoom.get(opts.room);
    if (current && !current.closing) return null;
    const publisher = new Publisher({
      ...opts,
      id: this.nextId++,
      onGone: (p) => {
        if (this.byRoom.get(p.room) === p) this.byRoom.delete(p.room);
        this.metrics.publishers.set(this.byRoom.size);
      },
    });
    this.byRoom.set(opts.room, publisher);
    this.metrics.publishers.set(this.byRoom.size);
    return publisher;
  }

  /** Shutdown: every publisher closed with 1012 (`shutting_down`), then their sockets awaited until the deadline; stragglers are cut off. */
  async closeAll(deadline: number): Promise<void> {
    const all = [...this.byRoom.values()];
    for (const p of all) p.close('shutting_down');
    await Promise.race([Promise.all(all.map((p) => p.closed())), new Promise((r) => setTimeout(r, Math.max(0, Math.min(deadline - Date.now(), CLOSE_WAIT_MS))).unref())]);
    for (const p of all) p.terminate();
  }
}
