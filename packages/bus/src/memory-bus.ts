import { EventEmitter } from 'node:events';
import { assertStreamName } from '@framecast/protocol';
import type { FrameBus, FrameListener, PublishResult } from './frame-bus.ts';

interface StoredFrame {
  envelope: Buffer;
  expiresAt: number;
}

/**
 * The process-wide broker behind MemoryFrameBus clients: the InMemoryChannelLayer of framecast.
 * For the embedded default and development only; it does not cross process boundaries.
 */
export class MemoryBroker {
  private readonly subscribers = new Map<string, Set<MemoryFrameBus>>();
  private readonly last = new Map<string, StoredFrame>();

  publish(room: string, envelope: Buffer, ttlMs: number): void {
    this.last.set(room, { envelope, expiresAt: Date.now() + ttlMs });
    const subs = this.subscribers.get(room);
    if (subs) for (const bus of subs) bus.deliver(room, envelope);
  }

  lastFrame(room: string): Buffer | null {
    const stored = this.last.get(room);
    if (!stored) return null;
    if (stored.expiresAt <= Date.now()) {
      this.last.delete(room);
      return null;
    }
    return stored.envelope;
  }

  subscriberCount(room: string): number {
    return this.subscribers.get(room)?.size ?? 0;
  }

  add(room: string, bus: MemoryFrameBus): void {
    let subs = this.subscribers.get(room);
    if (!subs) this.subscribers.set(room, (subs = new Set()));
    subs.add(bus);
  }

  remove(room: string, bus: MemoryFrameBus): void {
    const subs = this.subscribers.get(room);
    if (!subs) return;
    subs.delete(bus);
    if (subs.size === 0) this.subscribers.delete(room);
  }
}

export class MemoryFrameBus extends EventEmitter implements FrameBus {
  readonly kind = 'memory' as const;
  private listener: FrameListener = () => {};
  private readonly rooms = new Set<string>();
  private closed = false;

  private readonly broker: MemoryBroker;

  constructor(broker: MemoryBroker) {
    super();
    this.broker = broker;
  }

  isReady(): boolean {
    return !this.closed;
  }

  problem(): string | null {
    return this.closed ? 'bus closed' : null;
  }

  async publish(room: string, envelope: Buffer, lastFrameTtlMs: number): Promise<PublishResult> {
    if (this.closed) throw new Error('bus closed');
    this.broker.publish(assertStreamName(room), envelope, lastFrameTtlMs);
    return { lastFrameStored: true };
  }

  async subscribe(room: string): Promise<void> {
    this.rooms.add(assertStreamName(room));
    this.broker.add(room, this);
  }

  async unsubscribe(room: string): Promise<void> {
    this.rooms.delete(room);
    this.broker.remove(room, this);
  }

  async lastFrame(room: string): Promise<Buffer | null> {
    return this.broker.lastFrame(assertStreamName(room));
  }

  async subscriberCount(stream: string): Promise<number> {
    if (this.closed) throw new Error('bus closed');
    return this.broker.subscriberCount(assertStreamName(stream));
  }

  onFrame(listener: FrameListener): void {
    this.listener = listener;
  }

  /** Called by the broker. Delivery is deferred so publishers never run subscriber code. */
  deliver(room: string, envelope: Buffer): void {
    setImmediate(() => {
      if (this.rooms.has(room)) this.listener(room, envelope);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const room of this.rooms) this.broker.remove(room, this);
    this.rooms.clear();
  }
}
