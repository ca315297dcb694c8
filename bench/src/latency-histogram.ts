/**
 * Fixed-resolution latency histogram: 0.1 ms buckets up to 10 s, O(1) per sample, mergeable
 * across processes by adding the arrays. Coarse enough to be cheap in the load generator, fine
 * enough for loopback p50s of a few milliseconds.
 */
export const BUCKET_US = 100;
export const BUCKETS = 100_000;

export class LatencyHistogram {
  readonly counts: Uint32Array;
  count = 0;
  maxUs = 0;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Uint32Array(BUCKETS);
    if (counts) {
      this.counts.set(counts);
      for (let i = 0; i < BUCKETS; i++) {
        const c = this.counts[i]!;
        if (c > 0) {
          this.count += c;
          this.maxUs = i * BUCKET_US;
        }
      }
    }
  }

  record(us: number): void {
    const i = us <= 0 ? 0 : Math.min(BUCKETS - 1, Math.floor(us / BUCKET_US));
    this.counts[i]!++;
    this.count++;
    if (us > this.maxUs) this.maxUs = us;
  }

  merge(other: LatencyHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }

  /** The p-th percentile in milliseconds (upper edge of its bucket). */
  percentileMs(p: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return ((i + 1) * BUCKET_US) / 1000;
    }
    return this.maxUs / 1000;
  }

  /** Sparse form for IPC: [bucket, count] pairs. */
  toSparse(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) out.push([i, this.counts[i]!]);
    return out;
  }

  static fromSparse(pairs: Array<[number, number]>, maxUs: number): LatencyHistogram {
    const h = new LatencyHistogram();
    for (const [i, c] of pairs) {
      h.counts[i] = c;
      h.count += c;
    }
    h.maxUs = maxUs;
    return h;
  }
}
