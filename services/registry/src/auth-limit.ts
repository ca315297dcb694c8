import type { FastifyRequest } from 'fastify';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Logger } from '@framecast/logging';
import { registryKeys } from '@framecast/protocol';
import type { RedisClient } from '@framecast/redis';
import { ApiError } from './errors.ts';
import type { RegistryMetrics } from './metrics.ts';

/** Which secret a failed check was for: the admin key or an agent key. */
export type AuthKind = 'admin' | 'agent';

export interface AuthFailureLimiterOptions {
  /** Failed checks one address may make per window and kind (FRAMECAST_AUTH_FAILURE_LIMIT). */
  limit: number;
  /** The window, in seconds (FRAMECAST_AUTH_FAILURE_WINDOW_S). */
  windowS: number;
  /** The registry's Redis connection, so every replica counts against one budget; null: memory only. */
  redis: RedisClient | null;
  /** False while Redis is known not to answer: the in-memory stand-in counts at once instead of each check waiting out a command timeout. */
  redisAvailable?: () => boolean;
  metrics: RegistryMetrics;
  logger: Logger;
}

/**
 * Brute-force protection for the admin key and the agent keys (rate-limiter-flexible's
 * brute-force pattern). Each client address (`req.ip`) may fail `limit` key checks of one kind
 * per fixed window of `windowS` seconds. Once it has, every request of that kind that carries a key
 * is answered 429 `too_many_auth_failures` with `retry-after`, without the key being looked at,
 * until the window ends: even the right key, since answering it would tell an attacker which guess
 * was right. Requests without a key are never limited (the public room list stays open), and
 * successful checks cost nothing.
 *
 * With Redis the counts live under `{framecast}:auth-failures:<kind>:<address>` (one INCR script
 * per failure, one GET per checked request), so the limit holds across replicas; should Redis
 * fail, an in-memory limiter with the same budget stands in (per replica). Without Redis (the
 * embedded registry) the counts are in memory.
 *
 * Logging is per burst, not per request: one warning at an address's first failure of a window and
 * one when it reaches the limit; the counters carry every failure.
 */
export class AuthFailureLimiter {
  private readonly limiter: RateLimiterAbstract;
  /** The in-memory stand-in while Redis fails (rate-limiter-flexible's insurance limiter). */
  private readonly standIn: RateLimiterAbstract | null;
  private readonly limit: number;
  private readonly windowS: number;

  private readonly opts: AuthFailureLimiterOptions;

  constructor(opts: AuthFailureLimiterOptions) {
    this.opts = opts;
    this.limit = opts.limit;
    this.windowS = opts.windowS;
    // keyPrefix '': the key is exactly registryKeys.authFailures(...).
    const budget = { points: opts.limit, duration: opts.windowS, keyPrefix: '' };
    this.standIn = opts.redis ? new RateLimiterMemory(budget) : null;
    this.limiter = opts.redis
      ? new RateLimiterRedis({ ...budget, storeClient: opts.redis, rejectIfRedisNotReady: true, insuranceLimiter: this.standIn! })
      : new RateLimiterMemory(budget);
  }

  /** Redis's limiter, or its stand-in while Redis is down or connected but not answering (hung). */
  private current(): RateLimiterAbstract {
    return this.standIn && this.opts.redisAvailable?.() === false ? this.standIn : this.limiter;
  }

  /** Throws 429 when the request's address has used up its failures of this kind. Call before checking a key. */
  async assertNotBlocked(req: FastifyRequest, kind: AuthKind): Promise<void> {
    let res: RateLimiterRes | null;
    try {
      res = await this.current().get(registryKeys.authFailures(kind, req.ip));
    } catch (err) {
      // Neither Redis nor the stand-in answered: check the key rather than lock everyone out.
      this.opts.logger.error({ err, kind }, 'auth failure limiter unavailable; key checked without it');
      return;
    }
    if (res !== null && res.consumedPoints >= this.limit) throw this.limited(kind, res.msBeforeNext);
  }

  /**
   * Counts a failed check. Resolves when the caller should answer its usual 403; throws 429 when
   * this failure went over the limit (requests racing past assertNotBlocked at once).
   */
  async recordFailure(req: FastifyRequest, kind: AuthKind): Promise<void> {
    this.opts.metrics.authFailures.inc({ kind });
    const address = req.ip;
    let res: RateLimiterRes;
    try {
      res = await this.current().consume(registryKeys.authFailures(kind, address));
    } catch (err) {
      if (err instanceof RateLimiterRes) throw this.limited(kind, err.msBeforeNext);
      this.opts.logger.error({ err, kind }, 'auth failure limiter unavailable; failure not counted');
      return;
    }
    const count = res.consumedPoints;
    const log = { address, kind, count, limit: this.limit, windowS: this.windowS };
    if (count === this.limit) {
      this.opts.logger.warn({ ...log, retryAfterS: retryAfterS(res.msBeforeNext) }, `too many failed ${kind} key checks from ${address}: its ${kind} requests are refused (429) until the window ends`);
    } else if (count === 1) {
      this.opts.logger.warn(log, `failed ${kind} key check from ${address} (further failures in this window are counted, not logged, until the limit)`);
    }
  }

  private limited(kind: AuthKind, msBeforeNext: number): ApiError {
    this.opts.metrics.authLimited.inc({ kind });
    const seconds = retryAfterS(msBeforeNext);
    const err = new ApiError('too_many_auth_failures', `too many failed ${kind} key checks from this address; retry in ${seconds} s`);
    err.headers['retry-after'] = String(seconds);
    return err;
  }
}

const retryAfterS = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
