import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@framecast/logging';
import { FrameFlags } from '@framecast/protocol';
import type { CapturedFrame, DeliveryMode, RunContext } from '../frame-source.ts';
import { glyphRows } from './bitmap-font.ts';
import { formatClock, PatternPainter } from './pattern-painter.ts';
import { startTestPatternRun, TestPatternEncoder } from './test-pattern-run.ts';

const logger = createLogger('test', 'silent');

describe('test pattern', () => {
  it.each([
    [640, 360],
    [16, 16],
    [1280, 720],
  ])('encodes valid %ix%i JPEGs, and consecutive frames differ', async (width, height) => {
    const encoder = new TestPatternEncoder({ width, height, quality: 80 });
    const a = await encoder.encodeFrame();
    const b = await encoder.encodeFrame();
    for (const f of [a, b]) {
      expect(f.jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
      expect(f.jpeg.subarray(-2)).toEqual(Buffer.from([0xff, 0xd9]));
      const meta = await sharp(f.jpeg).metadata();
      expect(meta).toMatchObject({ format: 'jpeg', width, height, channels: 3 });
    }
    expect(a.jpeg.equals(b.jpeg)).toBe(false);
    expect(b.captureTimeUs).toBeGreaterThanOrEqual(a.captureTimeUs);
    // Pixels differ too (not just metadata): the box moved and the counter advanced.
    const [pa, pb] = await Promise.all([a, b].map((f) => sharp(f.jpeg).raw().toBuffer()));
    expect(pa!.equals(pb!)).toBe(false);
  });

  it('reuses one raw buffer for every frame', () => {
    const painter = new PatternPainter(320, 180);
    expect(painter.paint(0, 0)).toBe(painter.paint(1, 1000));
  });

  it('draws the clock where a viewer can read it', () => {
    // Render "88:88:88.888" vs "11:11:11.111" and compare the text panel: the glyphs must show.
    const painter = new PatternPainter(640, 360);
    const panel = (buf: Buffer) => buf.subarray(360 * 0.55 * 640 * 3, 360 * 0.75 * 640 * 3);
    const t8 = new Date(2025, 0, 1, 8, 8, 8, 888).getTime();
    const a = Buffer.from(panel(painter.paint(0, t8)));
    const b = panel(painter.paint(0, t8 + 1));
    expect(a.equals(b)).toBe(false);
    const lit = [...a].filter((v) => v === 255).length;
    expect(lit).toBeGreaterThan(1000); // scaled glyphs, not single pixels
  });

  it('formats the clock as HH:MM:SS.mmm', () => {
    expect(formatClock(new Date(2025, 5, 1, 7, 5, 3, 9).getTime())).toBe('07:05:03.009');
    expect(formatClock(new Date(2025, 5, 1, 23, 59, 59, 999).getTime())).toBe('23:59:59.999');
    for (const ch of '0123456789:.#') expect(glyphRows(ch).some((r) => r !== 0)).toBe(true);
  });

  it('is a source run: generated frames at the clock while running, none after stop(), never ended', async () => {
    const got: CapturedFrame[] = [];
    let mode: DeliveryMode | null = null;
    const ctx: RunContext = {
      logger,
      frame: (f) => got.push(f),
      dropped: () => {},
      describe: (m) => void (mode = m),
      process: () => {},
    };
    const run = startTestPatternRun(ctx, { width: 160, height: 90, fps: 30, quality: 70 });
    let ended = false;
    void run.ended.then(() => (ended = true));
    await new Promise((r) => setTimeout(r, 300));
    await run.stop();
    const n = got.length;
    expect(n).toBeGreaterThan(2);
    expect(mode).toBe('generate');
    expect(got[0]).toMatchObject({ width: 160, height: 90, flags: FrameFlags.Synthetic });
    expect(got.map((f) => f.captureTimeUs)).toEqual([...got.map((f) => f.captureTimeUs)].sort((x, y) => x - y));
    await new Promise((r) => setTimeout(r, 100));
    expect(got.length).toBe(n);
    expect(ended).toBe(false);
  });
});
