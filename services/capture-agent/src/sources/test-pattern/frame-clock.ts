export interface FrameClockOptions {
  fps: number;
  /** Produces one frame. Ticks that come while it is still running are skipped, not queued. */
  onTick: (tick: number) => Promise<void>;
  onError: (err: unknown) => void;
  /** Milliseconds on a monotonic clock; injectable for tests. */
  now?: () => number;
}

/**
 * Drift-free pacing: tick n is due at start + n·period on a monotonic clock, so timer lateness
 * never accumulates the way chained setInterval/setTimeout delays do. When a tick's work (drawing
 * and JPEG encoding) is still running at the next tick, or the event loop stalled past whole
 * periods, those ticks are skipped and counted: a live source should deliver the current picture
 * late rather than a backlog of old ones.
 */
export class FrameClock {
  private readonly periodMs: number;
  private readonly now: () => number;
  private startMs = 0;
  private next = 0;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private running = false;
  private ticks = 0;
  private skipped = 0;

  private readonly opts: FrameClockOptions;

  constructor(opts: FrameClockOptions) {
    this.opts = opts;
    this.periodMs = 1000 / opts.fps;
    this.now = opts.now ?? (() => performance.now());
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startMs = this.now();
    this.next = 0;
    this.fire();
  }

  /** Stops ticking and waits for a tick in progress to finish. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.busy;
  }

  stats(): { ticks: number; skippedTicks: number } {
    return { ticks: this.ticks, skippedTicks: this.skipped };
  }

  private readonly fire = (): void => {
    this.timer = null;
    if (!this.running) return;
    const tick = this.next;
    if (this.busy) this.skipped++;
    else {
      this.ticks++;
      const work = this.opts
        .onTick(tick)
        .catch(this.opts.onError)
        .finally(() => {
          if (this.busy === work) this.busy = null;
        });
      this.busy = work;
    }
    // The next tick strictly in the future; ticks already overdue are skipped.
    const now = this.now();
    const due = Math.floor((now - this.startMs) / this.periodMs) + 1;
    this.next = tick + 1;
    if (due > this.next) {
      this.skipped += due - this.next;
      this.next = due;
    }
    const delay = this.startMs + this.next * this.periodMs - now;
    this.timer = setTimeout(this.fire, Math.max(0, delay));
  };
}
