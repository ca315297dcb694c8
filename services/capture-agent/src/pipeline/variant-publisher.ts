import sharp from 'sharp';
import type { FrameBus } from '@framecast/bus';
import type { Logger } from '@framecast/logging';
import { encodeEnvelope, streamName, VARIANTS, type VariantName } from '@framecast/protocol';
import type { CapturedFrame } from '../sources/frame-source.ts';

export interface VariantPublisherOptions {
  bus: FrameBus;
  room: string;
  variant: VariantName;
  lastFrameTtlMs: number;
  logger: Logger;
  /** How often to ask Redis whether any gateway is subscribed to the variant. */
  checkEveryMs: number;
}

export interface VariantStats {
  variant: VariantName;
  /** A gateway was subscribed at the last check: the variant is being made. */
  wanted: boolean;
  published: number;
  /** Seconds spent decoding, scaling and encoding variant frames (the variant's whole CPU cost). */
  encodeSeconds: number;
  /** Why the agent stopped checking (its Redis user may not ask), null while it checks. */
  problem: string | null;
}

/**
 * A smaller rendition of one camera (`<room>~small`: ≤ 320 px wide, ≤ 2 fps), made only while
 * some gateway is subscribed to it. Every few seconds it asks Redis (PUBSUB NUMSUB); while nobody
 * is, nothing is decoded or encoded, so a camera nobody watches in a grid costs one cheap command
 * per check. While someone is, it scales the newest published frame at most `maxFps` times a
 * second, never two at once (a slow encode skips frames, it never queues them).
 */
export class VariantPublisher {
  private wanted = false;
  private encoding = false;
  private lastAt = 0;
  private sequence = 0;
  private published = 0;
  private encodeSeconds = 0;
  private problem: string | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly stream: string;
  private readonly spec: (typeof VARIANTS)[VariantName];
  private readonly opts: VariantPublisherOptions;

  constructor(opts: VariantPublisherOptions) {
    this.opts = opts;
    this.stream = streamName(opts.room, opts.variant);
    this.spec = VARIANTS[opts.variant];
  }

  start(): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), this.opts.checkEveryMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.wanted = false;
  }

  private async check(): Promise<void> {
    let count: number;
    try {
      count = await this.opts.bus.subscriberCount(this.stream);
    } catch (err) {
      const message = (err as Error).message;
      if (/NOPERM/.test(message)) {
        // An agent key made before variants: its Redis user may not ask. Say so once and stop asking.
        this.problem = `Redis refused PUBSUB NUMSUB (${message}): variant ${this.opts.variant} is off; recreate the agent key's ACL line (POST /api/agent-keys) to allow it`;
        this.opts.logger.warn({ room: this.opts.room, variant: this.opts.variant, err: message }, 'variant check refused by Redis; variant off');
        this.stop();
      }
      // Bus down: keep what was known; the next check decides again.
      return;
    }
    const wanted = count > 0;
    if (wanted !== this.wanted) this.opts.logger.info({ room: this.opts.room, variant: this.opts.variant, subscribers: count }, wanted ? 'variant wanted: publishing it' : 'variant no longer watched: stopped');
    this.wanted = wanted;
  }

  /** Called with each frame the camera published; makes a variant frame from it when one is due. */
  offer(frame: CapturedFrame): void {
    if (!this.wanted || this.encoding) return;
    const now = performance.now();
    if (now - this.lastAt < 1000 / this.spec.maxFps) return;
    this.lastAt = now;
    this.encoding = true;
    void this.encode(frame).finally(() => (this.encoding = false));
  }

  private async encode(frame: CapturedFrame): Promise<void> {
    const started = performance.now();
    try {
      const width = Math.min(this.spec.maxWidth, frame.width);
      const { data, info } = await sharp(frame.jpeg).resize({ width, withoutEnlargement: true }).jpeg({ quality: this.spec.quality }).toBuffer({ resolveWithObject: true });
      this.encodeSeconds += (performance.now() - started) / 1000;
      const envelope = encodeEnvelope({ sequence: this.sequence, captureTimeUs: frame.captureTimeUs, width: info.width, height: info.height, flags: frame.flags }, data);
      this.sequence = (this.sequence + 1) >>> 0;
      await this.opts.bus.publish(this.stream, envelope, this.opts.lastFrameTtlMs);
      this.published++;
    } catch (err) {
      // A frame that fails to scale or publish is skipped; the next one is due in half a second.
      this.opts.logger.debug({ room: this.opts.room, variant: this.opts.variant, err: String(err) }, 'variant frame skipped');
    }
  }

  stats(): VariantStats {
    return { variant: this.opts.variant, wanted: this.wanted, published: this.published, encodeSeconds: this.encodeSeconds, problem: this.problem };
  }
}
