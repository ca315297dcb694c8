import { classifyRedisError, type FrameBus, type PublishResult, type RedisProblemReason } from '@framecast/bus';
import type { Logger } from '@framecast/logging';
import { Codec, encodeEnvelope, nowMicros, writeHeader } from '@framecast/protocol';
import type { CapturedFrame } from '../sources/frame-source.ts';

/**
 * Why a captured frame was never published:
 * - superseded: a newer frame arrived while the previous publish was still in flight;
 * - bus_down: a newer frame arrived while the bus was down (only the newest is kept);
 * - stale: the kept frame was too old by the time the bus came back.
 */
export type DropReason = 'superseded' | 'bus_down' | 'stale';

/** Why a published frame's last-frame SET failed: a Redis problem reason, or `other`. */
export type LastFrameStoreFailure = RedisProblemReason | 'other';

/**
 * Failing last-frame SETs count as over once they have worked this long without a failure: a Redis
 * right at its memory limit can take one SET and refuse the next, and each flip would otherwise
 * log a line.
 */
export const LAST_FRAME_STORE_RECOVERY_MS = 2000;

export interface PublisherStats {
  captured: number;
  published: number;
  dropped: Record<DropReason, number>;
  /** Publishes that failed (rejected or timed out); their frame was kept or replaced, never queued. */
  publishFailures: number;
  /**
   * Frames that were published (viewers got them) but whose last-frame SET failed, by reason: a
   * full Redis (OOM) refuses the SET and still takes the PUBLISH. Not drops, and not a bus outage.
   */
  lastFrameStoreFailures: Partial<Record<LastFrameStoreFailure, number>>;
  /** While last-frame SETs fail: why ("Redis refuses writes (OOM: it is at maxmemory): …"); else null. */
  lastFrameStoreProblem: string | null;
  /** 1 while a frame waits in the single slot. */
  pending: number;
  busUp: boolean;
  /** Sequence number the next envelope carries (a failed publish used one up: viewers see the gap as a lost frame). */
  nextSequence: number;
}

export interface FramePublisherOptions {
  bus: FrameBus;
  room: string;
  lastFrameTtlMs: number;
  logger: Logger;
  /** A kept frame older than this (since capture) is dropped instead of published late. */
  maxStaleMs: number;
  /** A publish that has not settled by then counts as failed, so a hung Redis cannot wedge us. */
  publishTimeoutMs?: number;
  /** Called after each successful publish (metrics: frame size, capture→publish latency). */
  onPublished?: (frame: CapturedFrame, envelopeBytes: number) => void;
}

/**
 * Turns captured frames into envelopes on the bus, latest frame wins: there is never more than
 * one publish in flight and never more than one frame waiting (a single slot that each new frame
 * overwrites). While the bus is down the slot holds the newest frame; when the bus is back that
 * frame goes out once if still fresh. Memory is therefore constant however long Redis is away,
 * and viewers never get a backlog of old video.
 */
export class FramePublisher {
  private slot: CapturedFrame | null = null;
  private inFlight: Promise<void> | null = null;
  private sequence = 0;
  /** null until the bus has been seen up or down for the first time. */
  private busUp: boolean | null = null;
  private everUp = false;
  private downSince = 0;
  private droppedAtDown = 0;
  private closed = false;
  private readonly counters = {
    captured: 0,
    published: 0,
    publishFailures: 0,
    dropped: { superseded: 0, bus_down: 0, stale: 0 } as Record<DropReason, number>,
    lastFrameStoreFailures: {} as Partial<Record<LastFrameStoreFailure, number>>,
  };
  /** The current episode of failing last-frame SETs (okSince: the first SET of a working run since), null while they work. */
  private storeFailing: { since: number; failures: number; problem: string; okSince: number | null } | null = null;

  private readonly opts: FramePublisherOptions;

  constructor(opts: FramePublisherOptions) {
    this.opts = opts;
    opts.bus.on('ready', this.onReady);
    opts.bus.on('down', this.onDown);
  }

  offer(frame: CapturedFrame): void {
    if (this.closed) return;
    this.counters.captured++;
    if (this.slot) this.drop(this.busUp !== false && this.opts.bus.isReady() ? 'superseded' : 'bus_down');
    this.slot = frame;
    this.pump();
  }

  stats(): PublisherStats {
    const c = this.counters;
    return {
      captured: c.captured,
      published: c.published,
      dropped: { ...c.dropped },
      publishFailures: c.publishFailures,
      lastFrameStoreFailures: { ...c.lastFrameStoreFailures },
      lastFrameStoreProblem: this.storeFailing?.problem ?? null,
      pending: this.slot ? 1 : 0,
      busUp: this.busUp === true,
      nextSequence: this.sequence,
    };
  }

  /** Stops accepting frames and waits (bounded by the publish timeout) for one in flight. */
  async close(): Promise<void> {
    this.closed = true;
    this.slot = null;
    this.opts.bus.off('ready', this.onReady);
    this.opts.bus.off('down', this.onDown);
    await this.inFlight;
  }

  private drop(reason: DropReason): void {
    this.counters.dropped[reason]++;
    this.slot = null;
  }

  private pump(): void {
    if (this.inFlight || !this.slot || this.closed) return;
    if (!this.opts.bus.isReady()) {
      this.markDown();
      return;
    }
    if (nowMicros() - this.slot.captureTimeUs > this.opts.maxStaleMs * 1000) {
      this.drop('stale');
      return;
    }
    const frame = this.slot;
    this.slot = null;
    this.inFlight = this.send(frame).then((ok) => {
      this.inFlight = null;
      // A frame that arrived during the publish goes out now (the newest one only). After a
      // failure it waits for the bus's ready event or the next frame instead: retrying at once
      // would hammer a failing Redis.
      if (ok) this.pump();
    });
  }

  /** Publishes one frame; resolves false (never rejects) when the publish failed. */
  private async send(frame: CapturedFrame): Promise<boolean> {
    // At most one allocation per published frame: header and JPEG in a single Buffer, which the
    // bus writes to Redis as is and every gateway forwards unchanged. A source that already copied
    // the frame (the splitter, for frames spanning pipe chunks) left room for the header in front.
    // Every envelope takes its own number, published or not: a publish that timed out may still
    // land later (a hung Redis that wakes), and must not share a number with the frame sent next.
    const sequence = this.sequence;
    this.sequence = (sequence + 1) >>> 0;
    const init = {
      codec: Codec.Jpeg,
      flags: frame.flags,
      sequence,
      captureTimeUs: frame.captureTimeUs,
      width: frame.width,
      height: frame.height,
    };
    let envelope: Buffer;
    if (frame.envelope) {
      envelope = frame.envelope;
      frame.envelope = undefined;
      writeHeader(envelope, 0, init, frame.jpeg.byteLength);
    } else {
      envelope = encodeEnvelope(init, frame.jpeg);
    }
    let result: PublishResult;
    try {
      result = await this.publishWithTimeout(envelope);
    } catch (err) {
      this.counters.publishFailures++;
      this.markDown(err);
      // The failed frame is still the newest unless another one arrived meanwhile.
      if (this.closed) return false;
      if (!this.slot) this.slot = frame;
      else this.counters.dropped.bus_down++;
      return false;
    }
    this.counters.published++;
    this.markUp();
    if (result.lastFrameStored) this.storeWorks();
    else this.storeFailed(result.error);
    this.opts.onPublished?.(frame, envelope.length);
    return true;
  }

  private publishWithTimeout(envelope: Buffer): Promise<PublishResult> {
    const { bus, room, lastFrameTtlMs, publishTimeoutMs = 2000 } = this.opts;
    // One promise settled by whichever comes first, not Promise.race over a timeout promise with
    // a finally and a catch: this runs for every frame, and each of those is a promise more.
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`publish did not complete within ${publishTimeoutMs} ms`)), publishTimeoutMs);
      // A publish abandoned by the timeout may still settle later; settling again is a no-op.
      bus.publish(room, envelope, lastFrameTtlMs).then(
        (result) => {
          clearTimeout(timer);
          resolve(result);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private readonly onReady = (): void => {
    this.markUp();
    this.pump();
  };

  private readonly onDown = (): void => this.markDown();

  /**
   * The frame went out but its last-frame SET failed: viewers watching got it, a viewer joining
   * now gets no stored frame (it waits for the next one). Counted by reason; logged when the run
   * of failures starts (at error level when an operator has to act, e.g. OOM) and when it ends.
   */
  private storeFailed(err: Error): void {
    const problem = classifyRedisError(err);
    const reason: LastFrameStoreFailure = problem?.reason ?? 'other';
    const failures = this.counters.lastFrameStoreFailures;
    failures[reason] = (failures[reason] ?? 0) + 1;
    if (this.storeFailing) {
      this.storeFailing.failures++;
      this.storeFailing.okSince = null;
      return;
    }
    this.storeFailing = { since: Date.now(), failures: 1, problem: problem ? `${problem.summary}: ${problem.detail}` : err.message, okSince: null };
    this.opts.logger[problem?.level ?? 'warn'](
      { room: this.opts.room, reason, err: err.message },
      `last-frame store failing: ${problem?.summary ?? err.message}; frames still reach viewers, but a viewer joining now waits for the next frame`,
    );
  }

  private storeWorks(): void {
    const failing = this.storeFailing;
    if (!failing) return;
    const now = Date.now();
    failing.okSince ??= now;
    if (now - failing.okSince < LAST_FRAME_STORE_RECOVERY_MS) return;
    this.storeFailing = null;
    this.opts.logger.info({ room: this.opts.room, failures: failing.failures, failingForMs: failing.okSince - failing.since }, 'last-frame store working again');
  }

  /** Logs the transition once, not once per frame. */
  private markDown(err?: unknown): void {
    if (this.busUp === false) return;
    const wasUp = this.everUp;
    this.busUp = false;
    this.downSince = Date.now();
    this.droppedAtDown = this.totalDropped();
    const problem = err === undefined ? null : classifyRedisError(err);
    const cause = problem ? `${problem.summary}: ${problem.detail}` : (this.opts.bus.problem() ?? undefined);
    const detail = { ...(err === undefined ? {} : { err: err instanceof Error ? err.message : String(err) }), ...(cause ? { cause } : {}) };
    // A refusal (NOPERM on the room's channel, say) needs an operator: error level, still once.
    const level = problem?.level === 'error' ? 'error' : wasUp ? 'warn' : 'info';
    if (wasUp || level === 'error') this.opts.logger[level]({ ...detail, room: this.opts.room }, 'frame bus down: keeping only the newest frame until it is back');
    else this.opts.logger.info({ ...detail, room: this.opts.room }, 'waiting for the frame bus');
  }

  private markUp(): void {
    if (this.busUp === true) return;
    const firstTime = !this.everUp;
    const wasDown = this.busUp === false;
    this.busUp = true;
    this.everUp = true;
    if (firstTime) this.opts.logger.info({ room: this.opts.room }, 'frame bus ready');
    else if (wasDown) {
      this.opts.logger.info(
        { room: this.opts.room, downForMs: Date.now() - this.downSince, droppedWhileDown: this.totalDropped() - this.droppedAtDown },
        'frame bus up: publishing again',
      );
    }
  }

  private totalDropped(): number {
    const d = this.counters.dropped;
    return d.superseded + d.bus_down + d.stale;
  }
}
