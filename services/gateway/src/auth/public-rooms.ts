import type { Logger } from '@framecast/logging';
import type { PublicRoomSource } from '@framecast/registry-store';

/** While the set has never loaded, retry this often (the store may still be connecting). */
const FIRST_LOAD_RETRY_MS = 250;

export interface PublicRoomChanges {
  /** Rooms that left the public set since the previous load: private now (or deleted, or lost). */
  turnedPrivate: string[];
  /** Rooms that joined it. */
  turnedPublic: string[];
}

/**
 * The gateway's copy of the public-room set, so deciding whether a connection needs a token costs
 * a Set lookup, not a registry call. Deny by default: a room is open without a token only while
 * the registry's set names it, so a deleted record or a Redis that lost its data closes rooms
 * rather than opening them, and before the first load every room is private (`known` false, and
 * the gateway's /readyz says 503 until it is true).
 *
 * It reloads when the registry announces a change (pub/sub, milliseconds), after the announcement
 * channel reconnects, and every `refreshMs` regardless, because pub/sub drops messages sent while
 * a subscriber is away and a FLUSHALL announces nothing. So a room made private is enforced at once
 * normally, and within `refreshMs` in the worst case. While Redis is down the last loaded set stays
 * in force (the rooms it names were public a moment ago; refusing them would only punish viewers
 * for an outage).
 */
export class PublicRoomCache {
  private rooms: Set<string> | null = null;
  private loading: Promise<void> | null = null;
  private readonly timer: NodeJS.Timeout;
  private retry: NodeJS.Timeout | null = null;
  private readonly unsubscribe: () => void;
  private readonly loadedWaiters: Array<() => void> = [];
  private failing = false;
  private failures = 0;

  private readonly source: PublicRoomSource;
  private readonly logger: Logger;
  private readonly onChange: (changes: PublicRoomChanges) => void;

  constructor(
    source: PublicRoomSource,
    refreshMs: number,
    logger: Logger,
    onChange: (changes: PublicRoomChanges) => void,
  ) {
    this.source = source;
    this.logger = logger;
    this.onChange = onChange;
    this.unsubscribe = source.onRoomsChanged(() => void this.reload());
    this.timer = setInterval(() => void this.reload(), refreshMs);
    this.timer.unref();
    void this.reload();
  }

  /** Whether the set has loaded at least once (until then every room counts as private). */
  get known(): boolean {
    return this.rooms !== null;
  }

  isPublic(room: string): boolean {
    return this.rooms?.has(room) ?? false;
  }

  /** Resolves once the set has loaded (at once if it has). */
  loaded(): Promise<void> {
    if (this.known) return Promise.resolve();
    return new Promise((resolve) => this.loadedWaiters.push(resolve));
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
      const next = await this.source.publicRooms();
      const before = this.rooms;
      this.rooms = next;
      if (this.failing || !before) this.logger.info({ public: next.size }, before ? 'public room list loaded again' : 'public room list loaded');
      this.failing = false;
      this.failures = 0;
      if (!before) {
        for (const resolve of this.loadedWaiters.splice(0)) resolve();
        return;
      }
      const turnedPrivate = [...before].filter((r) => !next.has(r));
      const turnedPublic = [...next].filter((r) => !before.has(r));
      if (turnedPrivate.length > 0 || turnedPublic.length > 0) this.onChange({ turnedPrivate, turnedPublic });
    } catch (err) {
      // The store's connection is usually still opening at the first try: warn only if it stays away.
      this.failures++;
      if (!this.failing && (this.known || this.failures > 8)) this.logger.warn({ err: String(err), known: this.known }, 'cannot load the public room list; keeping the last one');
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
