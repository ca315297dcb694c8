/** The last published frame's picture size and JPEG bytes. */
export interface LastPublishedFrame {
  width: number;
  height: number;
  bytes: number;
}

/**
 * Running sums over every published frame; with the published count, the mean over any interval
 * is the difference of two readings (the heartbeat's bitrate, mean frame size and latency).
 */
export interface PublishedSums {
  envelopeBytes: number;
  captureToPublishSeconds: number;
}

/** Seconds of history behind fps(). */
const FPS_WINDOW_S = 5;

/**
 * What one camera has published, kept by the camera itself so every reader (stats, heartbeat)
 * gets it from there rather than from the agent's own Prometheus histograms. Constant memory: a
 * small ring of per-second counts and two sums.
 */
export class PublishedFrames {
  private last: LastPublishedFrame | null = null;
  private readonly sums: PublishedSums = { envelopeBytes: 0, captureToPublishSeconds: 0 };
  /** Published frames per whole second, a small ring for the fps figure. */
  private readonly perSecond = new Array<number>(FPS_WINDOW_S + 1).fill(0);
  private perSecondAt = Math.floor(Date.now() / 1000);

  /** Once per published frame. */
  record(frame: LastPublishedFrame, envelopeBytes: number, captureToPublishSeconds: number): void {
    this.last = frame;
    this.sums.envelopeBytes += envelopeBytes;
    this.sums.captureToPublishSeconds += captureToPublishSeconds;
    this.roll();
    this.perSecond[this.perSecondAt % this.perSecond.length]!++;
  }

  lastFrame(): LastPublishedFrame | null {
    return this.last;
  }

  totals(): PublishedSums {
    return { ...this.sums };
  }

  /** Frames per second over the last FPS_WINDOW_S whole seconds (the current, partial one left out). */
  fps(): number {
    this.roll();
    const n = this.perSecond.length;
    let sum = 0;
    for (let k = 1; k <= FPS_WINDOW_S; k++) sum += this.perSecond[(this.perSecondAt - k + n * 2) % n]!;
    return Math.round((sum / FPS_WINDOW_S) * 10) / 10;
  }

  /** Moves the ring to the current second, clearing the seconds that passed without frames. */
  private roll(): void {
    const sec = Math.floor(Date.now() / 1000);
    const n = this.perSecond.length;
    for (let s = Math.max(this.perSecondAt + 1, sec - n + 1); s <= sec; s++) this.perSecond[s % n] = 0;
    this.perSecondAt = Math.max(this.perSecondAt, sec);
  }
}
