import { describe, expect, it } from 'vitest';
import { FrameRateLimiter } from './frame-rate-limiter.ts';

/** Runs `count` frames at `intervalMs` (plus jitter) through a limiter; returns how many passed. */
function run(fps: number, intervalMs: number, count: number, jitter: (i: number) => number = () => 0): boolean[] {
  let t = 0;
  const limiter = new FrameRateLimiter(fps, 2, () => t);
  const out: boolean[] = [];
  for (let i = 0; i < count; i++) {
    t = i * intervalMs + jitter(i);
    out.push(limiter.accept());
  }
  return out;
}

describe('FrameRateLimiter', () => {
  it('passes every frame of a camera at exactly the rate, jitter included', () => {
    expect(run(15, 1000 / 15, 300).every(Boolean)).toBe(true);
    expect(run(15, 1000 / 15, 300, (i) => (i % 2 ? 20 : -20)).every(Boolean)).toBe(true);
  });

  it('keeps every other frame, evenly, of a camera at twice the rate', () => {
    const out = run(15, 1000 / 30, 300);
    const kept = out.filter(Boolean).length;
    expect(kept).toBeGreaterThanOrEqual(150);
    expect(kept).toBeLessThanOrEqual(152);
    // After the initial burst allowance: strictly alternating.
    const steady = out.slice(10);
    for (let i = 1; i < steady.length; i++) expect(steady[i]).toBe(!steady[i - 1]);
  });

  it('caps a 60 fps camera at 10', () => {
    const kept = run(10, 1000 / 60, 600).filter(Boolean).length; // 10 s
    expect(kept).toBeGreaterThanOrEqual(100);
    expect(kept).toBeLessThanOrEqual(102);
  });
});
