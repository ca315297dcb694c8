import { classifyRedisError, type RedisProblem, type RedisProblemReason } from './redis-errors.ts';

/** The slice of a pino logger this needs (any framecast Logger fits). */
export interface ProblemLogger {
  error(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface RedisProblemLogOptions {
  /** What talks to Redis, for the log fields: "frame bus", "registry store". */
  what: string;
  /** What the operator should check, by reason, appended to the line ("check REDIS_URL's user and password"). */
  hints?: Partial<Record<RedisProblemReason, string>>;
  /** An episode of one reason ends after this long without another report of it (default 60 s). */
  quietMs?: number;
}

const DEFAULT_HINTS: Partial<Record<RedisProblemReason, string>> = {
  auth: "check REDIS_URL's user and password (and that the ACL user exists on Redis)",
  noperm: "the ACL user in REDIS_URL lacks a permission this service needs",
  oom: 'raise maxmemory or free memory (with a noeviction policy Redis evicts nothing)',
  readonly: 'point REDIS_URL at the primary',
  misconf: 'see the Redis log for why its last save failed (disk full, permissions)',
};

/**
 * One log line per episode of a Redis problem, not one per retry or per request: a refused
 * password is retried every second and a full Redis fails every write, and each would otherwise
 * flood the log (or hide in debug lines). The first report of a reason logs it, at error level
 * for what needs an operator (credentials, ACL, memory, a replica) and warn for what passes by
 * itself, naming the cause and what to check; further reports of the same reason are counted
 * silently until `clear()` (the connection works again) or `quietMs` without one.
 */
export class RedisProblemLog {
  private readonly active = new Map<RedisProblemReason | 'other', { since: number; last: number; count: number; level: 'error' | 'warn' }>();

  private readonly logger: ProblemLogger;
  private readonly opts: RedisProblemLogOptions;

  constructor(logger: ProblemLogger, opts: RedisProblemLogOptions) {
    this.logger = logger;
    this.opts = opts;
  }

  /** Logs `err` if it starts an episode; returns what it was (null for an error that is no Redis problem). */
  report(err: unknown, fields: object = {}): RedisProblem | null {
    const problem = classifyRedisError(err);
    const reason = problem?.reason ?? 'other';
    const now = Date.now();
    const episode = this.active.get(reason);
    if (episode && now - episode.last < (this.opts.quietMs ?? 60_000)) {
      episode.last = now;
      episode.count++;
      return problem;
    }
    const level = problem?.level ?? 'warn';
    this.active.set(reason, { since: now, last: now, count: 1, level });
    const detail = err instanceof Error ? err.message : String(err);
    if (!problem) {
      this.logger.warn({ ...fields, redis: this.opts.what, err: detail }, `${this.opts.what}: Redis error`);
      return null;
    }
    const hint = this.opts.hints?.[problem.reason] ?? DEFAULT_HINTS[problem.reason];
    this.logger[level]({ ...fields, redis: this.opts.what, reason, code: problem.code, err: problem.detail }, hint ? `${problem.summary}: ${hint}` : problem.summary);
    return problem;
  }

  /** Redis works again: one line for each error-level problem that was being reported; the next report starts a new episode. */
  clear(): void {
    const now = Date.now();
    for (const [reason, e] of this.active) {
      if (e.level === 'error') this.logger.info({ redis: this.opts.what, reason, failures: e.count, forMs: now - e.since }, `${this.opts.what}: Redis accepts us again (${reason} resolved)`);
    }
    this.active.clear();
  }
}
