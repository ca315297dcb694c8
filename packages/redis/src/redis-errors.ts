/**
 * What a failed Redis command or connection attempt means to an operator. Redis names its
 * refusals with a leading code (`OOM command not allowed…`, `WRONGPASS invalid username-password
 * pair…`, `NOPERM …`, `READONLY …`), and ioredis words its own failures (command timeouts,
 * connections down) in fixed messages; this maps both onto a small, bounded set of reasons that
 * logs, metrics labels and API answers can use.
 */
export type RedisProblemReason =
  /** WRONGPASS / NOAUTH: the user or password in REDIS_URL is wrong, or the ACL user is gone. */
  | 'auth'
  /** NOPERM: the ACL user may not run this command or touch this key/channel. */
  | 'noperm'
  /** OOM: maxmemory reached under a noeviction policy; writes are refused, reads and PUBLISH work. */
  | 'oom'
  /** READONLY: connected to a replica (or a demoted primary after a failover). */
  | 'readonly'
  /** MISCONF: Redis stopped accepting writes because its last RDB save failed. */
  | 'misconf'
  /** LOADING: Redis is loading its dataset after a restart. */
  | 'loading'
  /** BUSY: a long-running script blocks the server. */
  | 'busy'
  /** A command got no answer in time (a hung or overloaded server). */
  | 'timeout'
  /** No connection: refused, reset, closed, not yet ready. */
  | 'unreachable';

export const REDIS_PROBLEM_REASONS: readonly RedisProblemReason[] = ['auth', 'noperm', 'oom', 'readonly', 'misconf', 'loading', 'busy', 'timeout', 'unreachable'];

export interface RedisProblem {
  reason: RedisProblemReason;
  /** Redis's error code (`OOM`, `WRONGPASS`, …) or ioredis's/Node's (`ECONNREFUSED`, `TIMEOUT`). */
  code: string;
  /** What happened, for an operator: "Redis refuses writes (OOM)". */
  summary: string;
  /** Redis's own words, without the script location Redis appends inside Lua. */
  detail: string;
  /** error: someone has to change something (credentials, ACL, memory, topology); warn: it passes by itself. */
  level: 'error' | 'warn';
}

const REFUSALS: Record<string, { reason: RedisProblemReason; summary: (code: string) => string; level: 'error' | 'warn' }> = {
  WRONGPASS: { reason: 'auth', summary: (c) => `Redis refused authentication (${c})`, level: 'error' },
  NOAUTH: { reason: 'auth', summary: (c) => `Redis refused authentication (${c})`, level: 'error' },
  NOPERM: { reason: 'noperm', summary: (c) => `Redis refused the command (${c})`, level: 'error' },
  OOM: { reason: 'oom', summary: (c) => `Redis refuses writes (${c}: it is at maxmemory)`, level: 'error' },
  READONLY: { reason: 'readonly', summary: (c) => `Redis refuses writes (${c}: it is a replica)`, level: 'error' },
  MISCONF: { reason: 'misconf', summary: (c) => `Redis refuses writes (${c}: its last save failed)`, level: 'error' },
  LOADING: { reason: 'loading', summary: (c) => `Redis is loading its data (${c})`, level: 'warn' },
  BUSY: { reason: 'busy', summary: (c) => `Redis is busy running a script (${c})`, level: 'warn' },
};

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EPIPE']);
const UNREACHABLE_MESSAGES = [/^Connection is closed/, /^Stream isn't writeable/, /^Reached the max retries per request limit/, /^Socket timeout/, /^connect ETIMEDOUT/];

/**
 * The problem an error stands for, or null when it is not a Redis availability or refusal problem
 * (a bug, such as a Lua runtime error or a wrong argument, stays what it is).
 */
export function classifyRedisError(err: unknown): RedisProblem | null {
  if (!(err instanceof Error)) return null;
  const message = err.message;
  if (message === 'Command timed out') {
    return { reason: 'timeout', code: 'TIMEOUT', summary: 'Redis did not answer in time', detail: message, level: 'warn' };
  }
  // Inside a script Redis keeps the refused command's code ("OOM command not allowed … script: …").
  const first = /^([A-Z]+)\b/.exec(message)?.[1];
  const refusal = first ? REFUSALS[first] : undefined;
  if (first && refusal) return { reason: refusal.reason, code: first, summary: refusal.summary(first), detail: withoutScriptLocation(message), level: refusal.level };
  const code = (err as NodeJS.ErrnoException).code;
  if ((code && UNREACHABLE_CODES.has(code)) || UNREACHABLE_MESSAGES.some((re) => re.test(message))) {
    return { reason: 'unreachable', code: code ?? 'CLOSED', summary: 'cannot reach Redis', detail: message, level: 'warn' };
  }
  return null;
}

function withoutScriptLocation(message: string): string {
  return message.replace(/\s*script: [0-9a-f]+, on @user_script:\d+\.?$/, '').trim();
}
