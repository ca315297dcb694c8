import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * One full, compacting garbage collection: what V8 does when memory runs out ("last resort"),
 * run once when start-up is done. Loading a service leaves ~10 MB of garbage and half-empty pages
 * in the old generation (module parsing, config checks, connection set-up); V8 would keep them
 * until its first mark-compact, which a gateway with `--initial-old-space-size` may not reach for
 * a long time, and even an ordinary full GC keeps the pages. Measured on the gateway: RSS at start
 * 101.6 → 91.6 MB for ~40 ms before it listens (docs/PERFORMANCE.md, "Start-up and idle memory").
 *
 * Node exposes V8's `gc()` only with `--expose-gc`; turning the flag on for a moment gives a fresh
 * context that has it, without a global `gc` in the service's own context.
 */
export function compactHeap(): number {
  const started = performance.now();
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as typeof globalThis.gc;
  setFlagsFromString('--no-expose-gc');
  setFlagsFromString('--no-flush-bytecode');
  gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
  setFlagsFromString('--flush-bytecode');
  return performance.now() - started;
}
