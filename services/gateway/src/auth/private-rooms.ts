import type { Logger } from '@framecast/logging';
import type { PrivateRoomSource } from '@framecast/registry-store';

/** While the set has never loaded, retry this often (the store may still be connecting). */
const FIRST_LOAD_RETRY_MS = 250;

/**
 * The gateway's copy of the private-room set, so deciding whether a connection needs a token
 * costs a Set lookup, not a registry call. It reloads when the registry announces a change
 * (pub/sub, milliseconds), after the announcement channel reconnects, and every `refreshMs`
 * regardless, because pub/sub drops messages sent while a subscriber is away. So a room made
 * private is enforced at once normally, and within `refreshMs` in the worst case. While Redis is
 * down the last loaded set stays in force. Before the first load nothing is known (`known` false).
 */
export class PrivateRoomCache {
  private rooms: Set<string> | null = null;
  private loading: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private retry: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;
  private failing = false;
  private failures = 0;

  constructor(
    private readonly source: PrivateRoomSource,
    refreshMs: number,
    private readonly logger: Logger,
    /** Called with rooms that turned private since the previous load. */
    private readonly onBecamePrivate: (rooms: string[]) => void,
  ) {
    this.unsubscribe = source.onRoomsChanged(() => void this.reload());
    this.timer = setInterval(() => void this.reload(), refreshMs);
    this.timer.unref();
    void this.reload();
  }

  get known(): boolean {
    return this.rooms !== null;
  }

  isPrivate(room: string): boolean {
    return this.rooms?.has(room) ?? false;
  }

  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = null));
    return this.loading;
  }

  close(): void {
    clearInterval(this.timer);
    if (this.retry) clearTimeout(this.retry);
    this.unsubscribe();
  }

  private async load(): Promise<void> {
    try {
      const next = await this.source.privateRooms();
      const before = this.rooms;
      this.rooms = next;
      if (this.failing || !before) this.logger.info({ private: next.size }, before ? 'private room list loaded again' : 'private room list loaded');
      this.failing = false;
      this.failures = 0;
      const added = before ? [...next].filter((r) => !before.has(r)) : [];
      if (added.length > 0) this.onBecamePrivate(added);
    } catch (err) {
      // The store's connection is usually still opening at the first try: warn only if it stays away.
      this.failures++;
      if (!this.failing && (this.known || this.failures > 8)) this.logger.warn({ err: String(err), known: this.known }, 'cannot load the private room list; keeping the last one');
      this.failing = this.known || this.failures > 8;
      if (!this.known && !this.retry) {
        this.retry = setTimeout(() => {
          this.retry = null;
          void this.reload();
        }, FIRST_LOAD_RETRY_MS);
        this.retry.unref();
      }
    }
  }
}
