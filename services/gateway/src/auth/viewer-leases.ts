import type { Viewer } from '../fanout/viewer.ts';

/** setTimeout holds at most 2^31-1 ms (~24.8 days); longer leases re-arm until they are due. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A token is a lease, not a ticket: a viewer that a token admitted to a private room (at connect,
 * or because its room turned private while it watched) is closed when the token expires. One
 * timer per leased viewer; viewers of public rooms hold no lease and cost nothing here.
 */
export class ViewerLeases {
  private readonly timers = new Map<Viewer, NodeJS.Timeout>();

  private readonly onExpired: (viewer: Viewer) => void;

  constructor(onExpired: (viewer: Viewer) => void) {
    this.onExpired = onExpired;
  }

  get size(): number {
    return this.timers.size;
  }

  has(viewer: Viewer): boolean {
    return this.timers.has(viewer);
  }

  /** Closes `viewer` at `until` (ms since the epoch); at once if that has passed. Re-arming replaces. */
  hold(viewer: Viewer, until: number): void {
    this.release(viewer);
    const arm = () => {
      const wait = until - Date.now();
      if (wait > MAX_TIMER_MS) {
        this.timers.set(viewer, setTimeout(arm, MAX_TIMER_MS));
        return;
      }
      this.timers.set(
        viewer,
        setTimeout(() => {
          this.timers.delete(viewer);
          this.onExpired(viewer);
        }, Math.max(0, wait)),
      );
    };
    arm();
  }

  release(viewer: Viewer): void {
    const t = this.timers.get(viewer);
    if (t === undefined) return;
    clearTimeout(t);
    this.timers.delete(viewer);
  }

  releaseAll(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
