import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from '@framecast/logging';
import { BULLMQ_PREFIX, WEBHOOK_HEADERS, WEBHOOK_QUEUE, type WebhookEvent } from '@framecast/protocol';
import type { RegistryStore } from '@framecast/registry-store';
import type { RegistryMetrics } from '../metrics.ts';
import { signWebhook } from './signature.ts';

export interface DeliveryJob {
  webhookId: string;
  event: WebhookEvent;
}

export interface DeliveryWorkerOptions {
  connection: ConnectionOptions;
  store: RegistryStore;
  metrics: RegistryMetrics;
  logger: Logger;
  workerName: string;
  concurrency: number;
  timeoutMs: number;
}

/**
 * Delivers webhook jobs: one signed POST per attempt, a 2xx is success, anything else (including
 * no answer within the timeout) throws so BullMQ retries it with exponential backoff. Every
 * attempt lands in the webhook's delivery log. Deliveries run `concurrency` at a time, and each
 * is bounded by the timeout, so a receiver that never answers holds one slot, not the queue.
 */
export function startDeliveryWorker(opts: DeliveryWorkerOptions): Worker<DeliveryJob> {
  const worker = new Worker<DeliveryJob>(WEBHOOK_QUEUE, (job) => deliver(job, opts), {
    connection: opts.connection,
    prefix: BULLMQ_PREFIX,
    concurrency: opts.concurrency,
    name: opts.workerName,
    // Longer than any one attempt, so a live delivery is never mistaken for a stalled one.
    lockDuration: Math.max(30_000, opts.timeoutMs * 3),
  });
  worker.on('error', (err) => opts.logger.debug({ err: err.message }, 'webhook worker error'));
  return worker;
}

async function deliver(job: Job<DeliveryJob>, opts: DeliveryWorkerOptions): Promise<string> {
  const hook = await opts.store.getWebhook(job.data.webhookId);
  if (!hook) return 'webhook deleted';
  const { event } = job.data;
  const body = JSON.stringify(event);
  const timestamp = Math.floor(Date.now() / 1000);
  const started = performance.now();
  let status: number | null = null;
  let error: string | null = null;
  try {
    const res = await fetch(hook.url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(opts.timeoutMs),
      headers: {
        'content-type': 'application/json',
        'user-agent': 'framecast-registry',
        [WEBHOOK_HEADERS.signature]: signWebhook(hook.secret, timestamp, body),
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.event]: event.type,
        [WEBHOOK_HEADERS.delivery]: String(job.id),
      },
    });
    status = res.status;
    await res.body?.cancel();
    if (status < 200 || status > 299) error = `HTTP ${status}`;
  } catch (err) {
    error = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : String(err instanceof Error ? (err.cause ?? err.message) : err);
  }
  const ok = error === null;
  opts.metrics.deliveries.inc({ outcome: ok ? 'ok' : status === null ? 'no_response' : 'http_error' });
  await opts.store.appendDelivery(hook.id, {
    deliveryId: String(job.id),
    eventId: event.id,
    event: event.type,
    room: event.room,
    attempt: job.attemptsMade + 1,
    ok,
    status,
    error,
    durationMs: Math.round(performance.now() - started),
    at: Date.now(),
  });
  if (!ok) throw new Error(error!);
  return `HTTP ${status}`;
}
