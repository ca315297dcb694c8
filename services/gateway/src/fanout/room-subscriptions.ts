import type { FrameBus } from '@framecast/bus';
import type { Logger } from '@framecast/logging';
import { EnvelopeError, nowMicros, readHeader } from '@framecast/protocol';
import type { GatewayMetrics } from '../metrics.ts';
import { RoomFanout, keepFrame, type FanoutLimits } from './room-fanout.ts';
import type { Viewer } from './viewer.ts';

export interface RoomSubscriptionsOptions extends FanoutLimits {
  bus: FrameBus;
  metrics: GatewayMetrics;
  logger: Logger;
  lingerMs: number;
  maxFrameBytes: number;
  firstFrameMaxAgeMs: number;
  /** Called when a viewer's socket stayed full past the stall timeout. */
  onStalled: (viewer: Viewer) => void;
}

/**
 * Which rooms (streams: a room, or a variant of one) this gateway is subscribed to, reference-counted by local viewers. A room is
 * subscribed on its first viewer and unsubscribed `lingerMs` after its last one leaves, so a
 * page reload does not cost a SUBSCRIBE/UNSUBSCRIBE pair and a cold first frame.
 */
export class RoomSubscriptions {
  private readonly rooms = new Map<string, RoomFanout>();
  private readonly invalidLoggedAt = new Map<string, number>();
  private lateLoggedAt = 0;

  private readonly opts: RoomSubscriptionsOptions;

  constructor(opts: RoomSubscriptionsOptions) {
    this.opts = opts;
    opts.bus.onFrame((room, envelope) => this.onBusFrame(room, envelope));
  }

  get size(): number {
    return this.rooms.size;
  }

  /** The fan-out of a stream (a room, or a variant of one) while this gateway is subscribed to it. */
  fanout(stream: string): RoomFanout | undefined {
    return this.rooms.get(stream);
  }

  /** Adds a viewer; sends it the room's latest frame at once when this gateway has one. */
  join(viewer: Viewer): void {
    let fanout = this.rooms.get(viewer.stream);
    if (!fanout) {
      fanout = new RoomFanout(viewer.stream, this.opts, this.opts.onStalled);
      this.rooms.set(viewer.stream, fanout);
      this.opts.metrics.roomsSubscribed.set(this.rooms.size);
      this.subscribe(fanout);
    }
    if (fanout.lingerTimer) {
      clearTimeout(fanout.lingerTimer);
      fanout.lingerTimer = null;
    }
    fanout.viewers.add(viewer);
    fanout.sendLatestTo(viewer, this.opts.firstFrameMaxAgeMs);
  }

  leave(viewer: Viewer): void {
    const fanout = this.rooms.get(viewer.stream);
    if (!fanout || !fanout.viewers.delete(viewer) || fanout.viewers.size > 0) return;
    fanout.lingerTimer = setTimeout(() => this.drop(fanout), this.opts.lingerMs);
    fanout.lingerTimer.unref();
  }

  /** Unsubscribes every room (shutdown). */
  async closeAll(): Promise<void> {
    const all = [...this.rooms.values()];
    await Promise.allSettled(all.map((f) => this.drop(f)));
  }

  private async drop(fanout: RoomFanout): Promise<void> {
    if (fanout.lingerTimer) clearTimeout(fanout.lingerTimer);
    fanout.lingerTimer = null;
    if (this.rooms.get(fanout.room) !== fanout || fanout.viewers.size > 0) return;
    this.rooms.delete(fanout.room);
    this.opts.metrics.roomsSubscribed.set(this.rooms.size);
    try {
      await this.opts.bus.unsubscribe(fanout.room);
    } catch (err) {
      this.opts.logger.warn({ room: fanout.room, err: String(err) }, 'unsubscribe failed');
    }
  }

  private subscribe(fanout: RoomFanout): void {
    const { bus, logger } = this.opts;
    const room = fanout.room;
    bus
      .subscribe(room)
      .then(() => bus.lastFrame(room))
      .then((stored) => {
        // A live frame that arrived meanwhile is newer than the stored one.
        if (stored && this.rooms.get(room) === fanout && fanout.latest === null) this.onBusFrame(room, stored);
      })
      .catch((err: unknown) => logger.debug({ room, err: String(err) }, 'no stored last frame (bus unavailable)'));
  }

  /** The per-frame entry point: validate the header, then fan out the exact bytes. */
  onBusFrame(room: string, envelope: Buffer): void {
    const fanout = this.rooms.get(room);
    if (!fanout) return;
    const { metrics } = this.opts;
    const header = readHeader(envelope, this.opts.maxFrameBytes);
    if (header instanceof EnvelopeError) {
      metrics.framesInvalid.inc({ reason: header.code });
      this.logInvalid(room, header);
      return;
    }
    const now = Date.now();
    const order = fanout.orderOf(header, now);
    if (order !== 'new') {
      if (order === 'late') this.countLate(room, header.sequence, fanout.latest!.header.sequence);
      return;
    }
    metrics.framesReceived.inc();
    const frame = keepFrame(header, envelope, now);
    const { sent, skipped, thinned } = fanout.deliver(frame);
    if (sent > 0) {
      metrics.framesDelivered.inc(sent);
      metrics.bytesDelivered.inc(sent * frame.envelopeBytes);
      metrics.frameLatency.observe(Math.max(0, nowMicros() - header.captureTimeUs) / 1e6);
    }
    if (skipped > 0) metrics.framesSkipped.inc({ reason: 'backpressure' }, skipped);
    if (thinned > 0) metrics.framesSkipped.inc({ reason: 'fps_cap' }, thinned);
  }

  /** Counted; logged at most once every 10 s (a failover re-sends a few, not one per frame). */
  private countLate(room: string, sequence: number, keptSequence: number): void {
    this.opts.metrics.framesLate.inc();
    const now = Date.now();
    if (now - this.lateLoggedAt < 10_000) return;
    this.lateLoggedAt = now;
    this.opts.logger.info({ room, sequence, keptSequence }, 'dropped a frame older than the one already shown (sent again after a Redis failover?)');
  }

  /** At most one warning per reason every 10 s: a broken publisher must not flood the logs. */
  private logInvalid(room: string, err: EnvelopeError): void {
    const now = Date.now();
    if (now - (this.invalidLoggedAt.get(err.code) ?? 0) < 10_000) return;
    this.invalidLoggedAt.set(err.code, now);
    this.opts.logger.warn({ room, reason: err.code, detail: err.message }, 'dropped invalid message on frame channel');
  }
}
