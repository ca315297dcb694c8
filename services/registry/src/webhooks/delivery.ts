import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from '@framecast/logging';
import { BULLMQ_PREFIX, WEBHOOK_HEADERS, WEBHOOK_QUEUE, type WebhookEvent } from '@framecast/protocol';
import type { RegistryStore } from '@framecast/registry-store';
import type { RegistryMetrics } from '../metrics.ts';
import { signWebhook } from './signature.ts';
import { checkAddresses, checkUrlStatic, EMPTY_ALLOW_LIST, systemLookup, type AllowList, type HostLookup } from './url-guard.ts';

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
  /** FRAMECAST_WEBHOOK_ALLOW_HOSTS, parsed: non-public addresses deliveries may reach anyway. */
  allow?: AllowList;
  /** Resolves receiver host names (tests stub it). */
  lookup?: HostLookup;
}

/**
 * Delivers webhook jobs: one signed POST per attempt, a 2xx is success, anything else (including
 * no answer within the timeout) throws so BullMQ retries it with exponential backoff. Every
 * attempt lands in the webhook's delivery log. Deliveries run `concurrency` at a time, and each
 * is bounded by the timeout, so a receiver that never answers holds one slot, not the queue.
 * Receivers are resolved and checked against the URL guard at connect time; a blocked one gets
 * no connection and its job is not retried. Redirects are never followed (a 3xx is a failure).
 */
export function startDeliveryWorker(opts: DeliveryWorkerOptions): Worker<DeliveryJob> {
  const agents: DeliveryAgents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };
  const worker = new Worker<DeliveryJob>(WEBHOOK_QUEUE, (job) => deliver(job, opts, agents), {
    connection: opts.connection,
    prefix: BULLMQ_PREFIX,
    concurrency: opts.concurrency,
    name: opts.workerName,
    // Longer than any one attempt, so a live delivery is never mistaken for a stalled one.
    lockDuration: Math.max(30_000, opts.timeoutMs * 3),
  });
  worker.on('error', (err) => opts.logger.debug({ err: err.message }, 'webhook worker error'));
  worker.on('closed', () => {
    agents.http.destroy();
    agents.https.destroy();
  });
  return worker;
}

interface DeliveryAgents {
  http: HttpAgent;
  https: HttpsAgent;
}

/** The receiver's address is not allowed (see url-guard.ts): nothing was sent. */
export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
  readonly code = 'ERR_FRAMECAST_WEBHOOK_BLOCKED';
}

/**
 * A `lookup` for node:net that resolves with `lookup`, checks EVERY address against the guard and
 * fails with BlockedAddressError if any is blocked. The check happens where the socket gets its
 * address, so a DNS answer that changes after the webhook was created (rebinding) cannot slip
 * between a check and the connect. IP literals never reach a lookup: checkUrlStatic covers them.
 */
export function guardedLookup(allow: AllowList, lookup: HostLookup, onBlocked: (err: BlockedAddressError) => void = () => {}): LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname).then(
      (resolved) => {
        const verdict = checkAddresses(
          hostname,
          resolved.map((a) => a.address),
          allow,
        );
        if (!verdict.ok) {
          const err = new BlockedAddressError(verdict.reason);
          onBlocked(err);
          return callback(err, '', 0);
        }
        const usable = options.family === 4 || options.family === 6 ? resolved.filter((a) => a.family === options.family) : resolved;
        if (usable.length === 0) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 0);
        // With autoSelectFamily (Node's default) the socket asks for every address.
        if (options.all) return (callback as unknown as (err: null, addresses: typeof usable) => void)(null, usable);
        callback(null, usable[0]!.address, usable[0]!.family);
      },
      (err: NodeJS.ErrnoException) => callback(err, '', 0),
    );
  };
}

export interface PostOptions {
  body: string;
  headers: Record<string, string>;
  signal: AbortSignal;
  allow: AllowList;
  lookup: HostLookup;
  agents?: DeliveryAgents;
}

/**
 * One POST with node:http(s): never follows redirects, resolves to the status code once the
 * response head arrives (the body is drained and discarded). Rejects with BlockedAddressError,
 * before any connection is made, when the URL or any address its host resolves to is blocked.
 */
export function postWebhook(url: URL, opts: PostOptions): Promise<number> {
  const pre = checkUrlStatic(url, opts.allow);
  if (pre.ok === false) return Promise.reject(new BlockedAddressError(pre.reason));
  return new Promise<number>((resolve, reject) => {
    let blocked: BlockedAddressError | null = null;
    const https = url.protocol === 'https:';
    const req = (https ? httpsRequest : httpRequest)(
      url,
      {
        method: 'POST',
        headers: { ...opts.headers, 'content-length': String(Buffer.byteLength(opts.body)) },
        signal: opts.signal,
        agent: opts.agents ? (https ? opts.agents.https : opts.agents.http) : undefined,
        lookup: guardedLookup(opts.allow, opts.lookup, (err) => (blocked = err)),
      },
      (res) => {
        res.on('error', () => {});
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', (err) => reject(blocked ?? err));
    req.end(opts.body);
  });
}

async function deliver(job: Job<DeliveryJob>, opts: DeliveryWorkerOptions, agents?: DeliveryAgents): Promise<string> {
  const hook = await opts.store.getWebhook(job.data.webhookId);
  if (!hook) return 'webhook deleted';
  const { event } = job.data;
  const body = JSON.stringify(event);
  const timestamp = Math.floor(Date.now() / 1000);
  const started = performance.now();
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let status: number | null = null;
  let error: string | null = null;
  let blocked: string | null = null;
  try {
    status = await postWebhook(new URL(hook.url), {
      body,
      signal,
      allow: opts.allow ?? EMPTY_ALLOW_LIST,
      lookup: opts.lookup ?? systemLookup,
      agents,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'framecast-registry',
        [WEBHOOK_HEADERS.signature]: signWebhook(hook.secret, timestamp, body),
        [WEBHOOK_HEADERS.timestamp]: String(timestamp),
        [WEBHOOK_HEADERS.event]: event.type,
        [WEBHOOK_HEADERS.delivery]: String(job.id),
      },
    });
    if (status < 200 || status > 299) error = `HTTP ${status}`;
  } catch (err) {
    if (err instanceof BlockedAddressError) error = `blocked: ${(blocked = err.message)}`;
    else if (signal.aborted) error = `no answer within ${opts.timeoutMs} ms`;
    else error = String(err);
  }
  const ok = error === null;
  opts.metrics.deliveries.inc({ outcome: ok ? 'ok' : blocked !== null ? 'blocked' : status === null ? 'no_response' : 'http_error' });
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
  if (blocked !== null) {
    // Retrying would only repeat the probe: the job fails for good, logged once.
    opts.logger.warn({ webhook: hook.id, delivery: String(job.id), event: event.type, reason: blocked }, 'webhook delivery blocked: the receiver address is not allowed (FRAMECAST_WEBHOOK_ALLOW_HOSTS)');
    throw new UnrecoverableError(error!);
  }
  if (!ok) throw new Error(error!);
  return `HTTP ${status}`;
}
