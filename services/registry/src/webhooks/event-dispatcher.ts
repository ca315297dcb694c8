import type { Queue } from 'bullmq';
import type { RedisClient } from '@framecast/redis';
import type { Logger } from '@framecast/logging';
import { EVENTS_CONSUMER_GROUP, registryKeys, WEBHOOK_EVENTS, type WebhookEvent, type WebhookEventType } from '@framecast/protocol';
import type { RegistryStore, WebhookRecord } from '@framecast/registry-store';
import type { RegistryMetrics } from '../metrics.ts';
import type { DeliveryJob } from './delivery.ts';

/** Entries read per call; a burst is worked off in batches of this size. */
const BATCH = 200;
/** How long one XREADGROUP waits for new events. */
export const EVENTS_BLOCK_MS = 2_000;
/** An entry another replica read but did not acknowledge for this long is taken over (it died). */
const CLAIM_IDLE_MS = 30_000;

export interface EventDispatcherOptions {
  /** A connection of its own: XREADGROUP BLOCK holds it. */
  redis: RedisClient;
  queue: Queue<DeliveryJob>;
  store: RegistryStore;
  metrics: RegistryMetrics;
  logger: Logger;
  consumer: string;
  attempts: number;
  backoffMs: number;
}

type StreamEntry = [id: string, fields: string[]];

/**
 * Turns the events stream into webhook jobs. The stream is read through a consumer group, so each
 * event goes to one registry replica; the job id is derived from the event id and the webhook, so
 * an event handled twice (a replica died between enqueueing and XACK) still makes one job.
 * Events are acknowledged only after their jobs are in BullMQ: a crash loses nothing.
 */
export class EventDispatcher {
  private stopped = false;
  private running: Promise<void> | null = null;
  private failing = false;
  private groupReady = false;

  private readonly opts: EventDispatcherOptions;

  constructor(opts: EventDispatcherOptions) {
    this.opts = opts;
  }

  start(): void {
    this.running ??= this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.opts.redis.disconnect();
    await this.running;
  }

  private async loop(): Promise<void> {
    const { redis, consumer } = this.opts;
    const key = registryKeys.events();
    let ownPendingDone = false;
    let lastClaim = 0;
    while (!this.stopped) {
      try {
        await this.ensureGroup();
        if (!ownPendingDone) {
          // Entries this consumer read before a restart but never acknowledged.
          await this.handle(await this.read('0'));
          ownPendingDone = true;
        }
        if (Date.now() - lastClaim > CLAIM_IDLE_MS / 3) {
          lastClaim = Date.now();
          const claimed = (await redis.xautoclaim(key, EVENTS_CONSUMER_GROUP, consumer, CLAIM_IDLE_MS, '0-0', 'COUNT', BATCH)) as [string, StreamEntry[]];
          await this.handle(claimed[1]);
        }
        await this.handle(await this.read('>'));
        if (this.failing) this.opts.logger.info('events stream readable again');
        this.failing = false;
      } catch (err) {
        if (this.stopped) break;
        if (!this.failing) this.opts.logger.warn({ err: String(err) }, 'cannot read the events stream; retrying');
        this.failing = true;
        if (/NOGROUP/.test(String(err))) this.groupReady = false;
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    if (this.groupReady) return;
    try {
      // From the start of the stream: events written before any registry ran are still delivered.
      await this.opts.redis.xgroup('CREATE', registryKeys.events(), EVENTS_CONSUMER_GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test(String(err))) throw err;
    }
    this.groupReady = true;
  }

  private async read(from: '0' | '>'): Promise<StreamEntry[]> {
    const args = ['GROUP', EVENTS_CONSUMER_GROUP, this.opts.consumer, 'COUNT', BATCH] as const;
    const res = (from === '>'
      ? await this.opts.redis.xreadgroup(...args, 'BLOCK', EVENTS_BLOCK_MS, 'STREAMS', registryKeys.events(), from)
      : await this.opts.redis.xreadgroup(...args, 'STREAMS', registryKeys.events(), from)) as Array<[string, StreamEntry[]]> | null;
    return res?.[0]?.[1] ?? [];
  }

  private async handle(entries: StreamEntry[]): Promise<void> {
    const live = entries.filter(([, fields]) => fields !== null && fields.length > 0);
    if (entries.length === 0) return;
    const hooks = live.length > 0 ? await this.opts.store.listWebhooks() : [];
    const jobs = live.flatMap(([id, fields]) => {
      const event = toEvent(id, fields);
      if (!event) return [];
      this.opts.metrics.events.inc({ type: event.type });
      return hooks.filter((h) => wants(h, event)).map((h) => this.job(h, event));
    });
    if (jobs.length > 0) await this.opts.queue.addBulk(jobs);
    await this.opts.redis.xack(registryKeys.events(), EVENTS_CONSUMER_GROUP, ...entries.map(([id]) => id));
  }

  private job(hook: WebhookRecord, event: WebhookEvent) {
    return {
      name: event.type,
      data: { webhookId: hook.id, event },
      opts: {
        // Stream ids look like 1700000000000-0: never an integer, never a ':'.
        jobId: `${event.id}-${hook.id}`,
        attempts: this.opts.attempts,
        backoff: { type: 'exponential', delay: this.opts.backoffMs },
        removeOnComplete: { age: 3_600, count: 10_000 },
        removeOnFail: { age: 86_400, count: 10_000 },
      },
    };
  }
}

function wants(hook: WebhookRecord, event: WebhookEvent): boolean {
  return hook.events.includes(event.type) && (hook.room === null || hook.room === event.room);
}

/** A stream entry as the webhook body. Fields other than type/room/at become `data`. */
export function toEvent(id: string, flat: string[]): WebhookEvent | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
  const type = f.type as WebhookEventType;
  if (!WEBHOOK_EVENTS.includes(type) || !f.room) return null;
  const data: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(f)) if (k !== 'type' && k !== 'room' && k !== 'at') data[k] = v === '' ? null : v;
  return { id, type, room: f.room, occurredAt: Number(f.at ?? id.split('-')[0]), data };
}
