import { describe, expect, it } from 'vitest';
import { compactHeap } from './compact-heap.ts';

describe('compactHeap', () => {
  it('collects what start-up left behind, without leaving a global gc behind', () => {
    const hadGc = typeof globalThis.gc;
    let garbage: number[][] | null = Array.from({ length: 4000 }, (_, i) => Array.from({ length: 1000 }, () => i));
    const before = process.memoryUsage().heapUsed;
    expect(garbage.length).toBe(4000); // ~16 MB of small integers
    garbage = null;
    const ms = compactHeap();
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(process.memoryUsage().heapUsed).toBeLessThan(before - 8_000_000);
    expect(typeof globalThis.gc).toBe(hadGc);
  });
});
