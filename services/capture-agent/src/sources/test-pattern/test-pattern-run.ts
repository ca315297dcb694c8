import sharp from 'sharp';
import { FrameFlags, nowMicros } from '@framecast/protocol';
import type { RunContext, RunEnd, SourceRun } from '../frame-source.ts';
import { FrameClock } from './frame-clock.ts';
import { PatternPainter } from './pattern-painter.ts';

export interface TestPatternOptions {
  width: number;
  height: number;
  fps: number;
  quality: number;
}

/**
 * Draws and JPEG-encodes test pattern pictures with libvips (sharp), needing neither ffmpeg nor
 * system fonts. Each picture shows the wall clock at capture time, so a viewer can read the
 * end-to-end delay off the screen.
 */
export class TestPatternEncoder {
  /** Pictures encoded so far; also the frame counter drawn into the next one. */
  frames = 0;
  private readonly painter: PatternPainter;
  private readonly opts: Omit<TestPatternOptions, 'fps'>;

  constructor(opts: Omit<TestPatternOptions, 'fps'>) {
    this.opts = opts;
    this.painter = new PatternPainter(opts.width, opts.height);
  }

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
}

/**
 * `testsrc`: a synthetic camera drawn in JavaScript, one more source run beside ffmpeg and HTTP
 * MJPEG. It never fails, so `ended` never settles; the run lasts until it is stopped.
 */
export function startTestPatternRun(ctx: RunContext, o: TestPatternOptions): SourceRun {
  const { width, height, fps } = o;
  const encoder = new TestPatternEncoder(o);
  let stopped = false;
  const clock = new FrameClock({
    fps,
    onTick: async () => {
      const { jpeg, captureTimeUs } = await encoder.encodeFrame();
      // A frame whose encode was under way when stop() was called is finished but not delivered.
      if (!stopped) ctx.frame({ jpeg, width, height, captureTimeUs, flags: FrameFlags.Synthetic });
    },
    onError: (err) => ctx.logger.error({ err: String(err) }, 'test pattern frame failed'),
  });
  ctx.describe('generate', { codec: 'testsrc (sharp)', width, height, fps });
  clock.start();
  return {
    ended: new Promise<RunEnd>(() => {}),
    async stop() {
      stopped = true;
      await clock.stop();
    },
  };
}
