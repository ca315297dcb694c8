import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FrameClock } from './frame-clock.ts';

// Fake timers make time exact, so these tests check the schedule itself, not the machine's speed.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** stop() waits for the tick in progress, whose work runs on the fake clock. */
async function stopClock(c: FrameClock): Promise<void> {
  const stopped = c.stop();
  await vi.advanceTimersByTimeAsync(1000);
  await stopped;
}

function clock(fps: number, workMs: number, now: () => number = () => Date.now()) {
  const at: number[] = [];
  const c = new FrameClock({
    fps,
    now,
    onError: (err) => {
      throw err;
    },
    onTick: async () => {
      at.push(now());
      if (workMs > 0) await sleep(workMs);
    },
  });
  return { c, at };
}

describe('FrameClock', () => {
  it('ticks at start + n·period however long each tick takes', async () => {
    const t0 = Date.now();
    const { c, at } = clock(15, 40);
    c.start();
    await vi.advanceTimersByTimeAsync(2000);
    await stopClock(c);
    expect(at.length).toBe(31); // ticks 0..30 inside [0, 2000]
    at.forEach((t, n) => expect(Math.abs(t - t0 - (n * 1000) / 15)).toBeLessThanOrEqual(1));
    expect(c.stats()).toEqual({ ticks: 31, skippedTicks: 0 });
  });

  it('skips ticks while the previous one is still working instead of queueing them', async () => {
    const t0 = Date.now();
    const { c, at } = clock(10, 250);
    c.start();
    await vi.advanceTimersByTimeAsync(1000);
    await stopClock(c);
    // Work starts at 0 and ends at 250, so ticks 1 and 2 are skipped and tick 3 (300 ms) runs.
    expect(at.map((t) => t - t0)).toEqual([0, 300, 600, 900]);
    expect(c.stats()).toEqual({ ticks: 4, skippedTicks: 7 });
  });

  it('jumps over ticks missed while the event loop was blocked', async () => {
    let lag = 0;
    const t0 = Date.now();
    const { c, at } = clock(10, 0, () => Date.now() + lag);
    c.start();
    await vi.advanceTimersByTimeAsync(150);
    lag = 420; // as if a 420 ms stall happened: now reads 570 while tick 2 was due at 200
    await vi.advanceTimersByTimeAsync(200);
    await stopClock(c);
    const times = at.map((t) => t - t0);
    expect(times.slice(0, 2)).toEqual([0, 100]);
    // The late tick runs once, then the schedule continues on the original grid (700, 800...).
    expect(times.slice(2)).toEqual([620, 700]);
    expect(c.stats().skippedTicks).toBe(4);
  });

  it('stop() waits for the tick in progress and no tick follows', async () => {
    const { c, at } = clock(10, 50);
    c.start();
    await vi.advanceTimersByTimeAsync(10);
    let stopped = false;
    const done = c.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(30);
    expect(stopped).toBe(false);
    await vi.advanceTimersByTimeAsync(20);
    await done;
    await vi.advanceTimersByTimeAsync(1000);
    expect(at.length).toBe(1);
  });
});
