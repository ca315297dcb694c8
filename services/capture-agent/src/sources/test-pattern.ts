import sharp from 'sharp';
import type { Logger } from '@framecast/logging';
import { FrameFlags, nowMicros } from '@framecast/protocol';
import { FrameClock } from '../frame-clock.ts';
import type { FrameSink, FrameSource } from './frame-source.ts';
import { PatternPainter } from './pattern-painter.ts';

export interface TestPatternOptions {
  width: number;
  height: number;
  fps: number;
  quality: number;
  logger: Logger;
}

/**
 * `testsrc`: a synthetic camera drawn in JavaScript and encoded by libvips (sharp), needing
 * neither ffmpeg nor system fonts. The picture shows the wall clock at capture time, so a viewer
 * can read the end-to-end delay off the screen.
 */
export class TestPatternSource implements FrameSource {
  readonly name = 'testsrc';
  private readonly painter: PatternPainter;
  private readonly clock: FrameClock;
  private sink: FrameSink | null = null;
  private frames = 0;
  private encodeErrors = 0;

  private readonly opts: TestPatternOptions;

  constructor(opts: TestPatternOptions) {
    this.opts = opts;
    this.painter = new PatternPainter(opts.width, opts.height);
    this.clock = new FrameClock({
      fps: opts.fps,
      onTick: () => this.produce(),
      onError: (err) => {
        this.encodeErrors++;
        opts.logger.error({ err: String(err) }, 'test pattern frame failed');
      },
    });
  }

  start(sink: FrameSink): void {
    this.sink = sink;
    this.clock.start();
  }

  async stop(): Promise<void> {
    this.sink = null;
    await this.clock.stop();
  }

  stats(): Record<string, number> {
    return { frames: this.frames, encodeErrors: this.encodeErrors, ...this.clock.stats() };
  }

  /** Draws and encodes one frame. Exposed for tests and benchmarks. */
  async encodeFrame(): Promise<{ jpeg: Buffer; captureTimeUs: number }> {
    const { width, height, quality } = this.opts;
    // Capture time is the instant the picture shows, taken before drawing and encoding.
    const captureTimeUs = nowMicros();
    const raw = this.painter.paint(this.frames, captureTimeUs / 1000);
    // libvips reads `raw` asynchronously; the clock never starts the next tick (which repaints
    // the same buffer) before this one's encode has finished, so reuse is safe.
    const jpeg = await sharp(raw, { raw: { width, height, channels: 3 } })
      .jpeg({ quality, mozjpeg: false })
      .toBuffer();
    this.frames++;
    return { jpeg, captureTimeUs };
  }

  private async produce(): Promise<void> {
    const { jpeg, captureTimeUs } = await this.encodeFrame();
    this.sink?.({ jpeg, width: this.opts.width, height: this.opts.height, captureTimeUs, flags: FrameFlags.Synthetic });
  }
}
