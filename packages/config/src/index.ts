import { hostname } from 'node:os';
import { isValidNodeId, NODE_ID_RULE } from '@framecast/protocol';
import * as v from 'valibot';

/**
 * The schema library, re-exported so every service builds its fields with the same one. valibot,
 * not zod: zod 4 loads ~100 modules (every locale, JSON Schema conversion) for what is here a
 * start-up check of flat strings, and costs each service ~10 MB of resident memory at start
 * against valibot's ~2 (docs/PERFORMANCE.md, "Start-up and idle memory").
 */
export { v };

/** An object schema whose keys are environment variable names. */
export type EnvSchema = v.ObjectSchema<v.ObjectEntries, undefined>;

/** A configuration problem, always naming the environment variable at fault. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly variable: string;
  readonly problem: string;

  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.variable = variable;
    this.problem = problem;
  }
}

export type Env = Record<string, string | undefined>;

export interface LoadedConfig<T> {
  config: Readonly<T>;
  /** FRAMECAST_* variables that no schema field reads: probably a typo. */
  unknown: string[];
}

/**
 * Variables that meant different things in different services and were split, so that one
 * environment (the embedded runner, a compose file's shared block) can set each service's own.
 * Setting an old name is refused rather than ignored: the value would silently stop applying.
 */
export const RENAMED_VARIABLES: Readonly<Record<string, string>> = {
  FRAMECAST_STALL_TIMEOUT_MS: 'was split: set FRAMECAST_VIEWER_STALL_TIMEOUT_MS (gateway: a viewer skipping frames this long is closed) or FRAMECAST_SOURCE_STALL_TIMEOUT_MS (capture agent: a camera without a frame this long is restarted)',
  FRAMECAST_MAX_FRAME_BYTES: 'was split: set FRAMECAST_MAX_ENVELOPE_BYTES (gateway: larger envelopes on the bus are dropped) or FRAMECAST_MAX_SOURCE_FRAME_BYTES (capture agent: larger source frames are dropped)',
};

/**
 * Validates `env` against a schema whose keys are environment variable names and returns a
 * frozen config. Empty strings count as unset so `FOO=` falls back to the default, as shells and
 * compose files produce them by accident. Throws ConfigError naming the first bad variable.
 */
export function loadConfig<S extends EnvSchema>(schema: S, env: Env = process.env): LoadedConfig<v.InferOutput<S>> {
  for (const [old, problem] of Object.entries(RENAMED_VARIABLES)) {
    if (env[old] !== undefined && env[old].trim() !== '') throw new ConfigError(old, problem);
  }
  const input: Record<string, string> = {};
  for (const key of Object.keys(schema.entries)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') input[key] = value.trim();
  }
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    const variable = String(issue.path?.[0]?.key ?? '(config)');
    const got = input[variable];
    const problem = issue.kind === 'schema' && got === undefined ? 'is required but not set' : issue.message;
    throw new ConfigError(variable, got === undefined ? problem : `${problem} (got ${shownValue(variable, got)})`);
  }
  const known = new Set(Object.keys(schema.entries));
  const unknown = Object.keys(env).filter((k) => k.startsWith('FRAMECAST_') && !known.has(k));
  return { config: Object.freeze(result.output) as Readonly<v.InferOutput<S>>, unknown };
}

/** Variables whose value is a credential: an error names their length, never the value. */
const SECRET_NAME = /SECRET|PASSWORD|(^|_)(KEY|TOKEN)$/;

/**
 * A bad value as an error line may show it: start-up errors go to logs and terminals, so a
 * credential is told by its length and a URL's password is masked.
 */
function shownValue(variable: string, value: string): string {
  if (SECRET_NAME.test(variable)) return `${value.length} characters, not shown`;
  if (/^[a-z][a-z0-9+.-]*:\/\/[^/@\s]*@/i.test(value)) return JSON.stringify(value.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@:\s]*)(:[^/@\s]*)?@/i, (_m, scheme: string, user: string, pass?: string) => `${scheme}${user}${pass ? ':***' : ''}@`));
  return JSON.stringify(value);
}

const intText = (min: number, max: number) =>
  v.pipe(v.string(), v.regex(/^-?\d+$/, 'must be an integer'), v.transform(Number), v.minValue(min, `must be >= ${min}`), v.maxValue(max, `must be <= ${max}`));

/** An integer variable that may be unset: the fallback, like every default, passes the same checks. */
const intWithDefault = (min: number, max: number, fallback: number) => v.optional(intText(min, max), String(fallback));

const BOOL_WORDS = ['true', 'false', '1', '0', 'yes', 'no'] as const;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Field builders for environment variables (all values arrive as strings). A field's fallback is
 * a value of its own kind (a number for `int`); it is written as the text a user would set.
 */
export const envField = {
  int: intWithDefault,
  requiredInt: (min: number, max: number) => intText(min, max),
  port: (fallback: number) => intWithDefault(0, 65535, fallback),
  bytes: intWithDefault,
  ms: intWithDefault,
  host: (fallback: string) => v.optional(v.pipe(v.string(), v.minLength(1, 'must not be empty')), fallback),
  string: (fallback: string) => v.optional(v.string(), fallback),
  bool: (fallback: boolean) =>
    v.optional(
      v.pipe(
        v.picklist(BOOL_WORDS, 'must be true or false'),
        v.transform((word) => word === 'true' || word === '1' || word === 'yes'),
      ),
      fallback ? 'true' : 'false',
    ),
  logLevel: (fallback: 'info' | 'debug' = 'info') => v.optional(v.picklist(LOG_LEVELS, `must be one of ${LOG_LEVELS.join(', ')}`), fallback),
  redisUrl: () =>
    v.pipe(
      v.string(),
      v.check((text) => {
        try {
          const u = new URL(text);
          return u.protocol === 'redis:' || u.protocol === 'rediss:';
        } catch {
          return false;
        }
      }, 'must be a redis:// or rediss:// URL'),
    ),
  /**
   * A replica's or agent's id (FRAMECAST_GATEWAY_ID, FRAMECAST_REGISTRY_ID, FRAMECAST_AGENT_ID):
   * the host name unless set, held to @framecast/protocol's id rule (it goes into Redis keys).
   */
  nodeId: () => v.optional(v.pipe(v.string(), v.check((id: string) => isValidNodeId(id), `must be an id: ${NODE_ID_RULE}`)), hostname),
};

/** Thrown by a `parsedText` parser: the text is not acceptable, and the message says why. */
export class FieldProblem extends Error {
  override readonly name = 'FieldProblem';
}

/**
 * A text field turned into a value by `parse`, which throws FieldProblem for bad text (e.g.
 * REDIS_CLUSTER_NODES, FRAMECAST_ALLOWED_ORIGINS); its message becomes the field's error.
 */
export function parsedText<T>(parse: (text: string) => T) {
  return v.pipe(
    v.string(),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      try {
        return parse(dataset.value);
      } catch (err) {
        if (!(err instanceof FieldProblem)) throw err;
        addIssue({ message: err.message });
        return NEVER;
      }
    }),
  );
}

/**
 * The auth switch every service reads (the capture agent too, which has no use for tokens). Auth
 * is on unless FRAMECAST_AUTH=off says otherwise, and a service with auth on refuses to start
 * without its secrets: forgetting a secret must never mean "open to everyone". The token secret
 * itself is @framecast/viewer-tokens' `tokenSecretEnvFields`.
 */
export const authEnvFields = {
  FRAMECAST_AUTH: v.optional(v.picklist(['on', 'off'], 'must be on or off'), 'on'),
};

export interface AuthConfig {
  FRAMECAST_AUTH: 'on' | 'off';
}

/** Throws ConfigError naming `variable` when auth is on and the secret is not set. */
export function requireWhenAuthOn(config: AuthConfig, variable: string, value: string | undefined): void {
  if (config.FRAMECAST_AUTH === 'on' && !value) {
    throw new ConfigError(variable, 'is required while FRAMECAST_AUTH=on (set FRAMECAST_AUTH=off only for local use without auth)');
  }
}

/**
 * Runs a service's configuration step and turns a ConfigError into the one-line message and
 * exit code operators expect, instead of a stack trace.
 */
export function configOrExit<T>(service: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${service}: invalid configuration: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}

/**
 * HTTP server timeouts, the same variables for every service with an HTTP server (gateway,
 * registry), so a client that opens connections and sends its request slowly, or never finishes
 * the headers (slowloris), cannot hold a connection for minutes.
 */
export const httpTimeoutEnvFields = {
  /** Time a client has to send a request's complete headers; then the connection is closed (408). */
  FRAMECAST_HTTP_HEADERS_TIMEOUT_MS: intWithDefault(500, 600_000, 10_000),
  /** Time a client has to send a whole request, body included. An upgraded websocket is no longer a request. */
  FRAMECAST_HTTP_REQUEST_TIMEOUT_MS: intWithDefault(500, 3_600_000, 30_000),
  /** An idle keep-alive connection is closed after this; above the 60 s idle timeout common in load balancers. */
  FRAMECAST_HTTP_KEEPALIVE_TIMEOUT_MS: intWithDefault(1_000, 600_000, 72_000),
};

export interface HttpTimeoutConfig {
  FRAMECAST_HTTP_HEADERS_TIMEOUT_MS: number;
  FRAMECAST_HTTP_REQUEST_TIMEOUT_MS: number;
  FRAMECAST_HTTP_KEEPALIVE_TIMEOUT_MS: number;
}

/**
 * The `fastify()` options that apply the timeouts. Node checks for expired requests only every
 * `connectionsCheckingInterval` (30 s by default, which would let a slow client outstay the
 * headers timeout by up to 30 s); here it is a quarter of the headers timeout, 100 ms – 1 s.
 * The headers timeout is capped by the request timeout (node requires headers ≤ request).
 */
export function httpServerOptions(c: HttpTimeoutConfig) {
  const requestTimeout = c.FRAMECAST_HTTP_REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(c.FRAMECAST_HTTP_HEADERS_TIMEOUT_MS, requestTimeout);
  return {
    requestTimeout,
    keepAliveTimeout: c.FRAMECAST_HTTP_KEEPALIVE_TIMEOUT_MS,
    http: { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(1_000, Math.max(100, Math.floor(headersTimeout / 4))) },
  };
}

/**
 * Redis settings every service with a Redis connection reads (gateway, registry, capture agent).
 * FRAMECAST_REDIS_COMMAND_TIMEOUT_MS bounds every command: past it the command fails instead of
 * waiting on a hung Redis, and a Redis that leaves a PING unanswered that long counts as not
 * answering (readiness turns 503 within about this plus half a second). The default is
 * @framecast/redis's DEFAULT_REDIS_COMMAND_TIMEOUT_MS.
 */
export const redisEnvFields = {
  FRAMECAST_REDIS_COMMAND_TIMEOUT_MS: intWithDefault(200, 60_000, 1_000),
};

/** One seed node of REDIS_CLUSTER_NODES. */
export interface ClusterSeed {
  host: string;
  port: number;
}

const SEED = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

/**
 * Where a service finds Redis. REDIS_URL alone: one Redis (user, password, database and TLS with
 * `rediss:` in the URL). REDIS_CLUSTER_NODES (`host:port,host:port,…`, a few of the cluster's
 * nodes; the rest are discovered): a Redis Cluster, frames on sharded pub/sub; REDIS_URL, if also
 * set, gives the user, password and TLS (`rediss:`) for every node and is one more seed. Whether
 * at least one is required is each service's rule (`requireRedis`): the embedded runner and the
 * agent's probe mode need neither.
 */
export const redisConnectionEnvFields = {
  REDIS_URL: v.optional(envField.redisUrl()),
  REDIS_CLUSTER_NODES: v.optional(
    parsedText((text): ClusterSeed[] => {
      const seeds: ClusterSeed[] = [];
      for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
        const m = SEED.exec(item);
        const port = m ? Number(m[3]) : 0;
        if (!m || port < 1 || port > 65535) {
          throw new FieldProblem(`must be a comma-separated list of host:port seed nodes (e.g. redis-0:6379,redis-1:6379); ${JSON.stringify(item)} is not one`);
        }
        seeds.push({ host: m[1] ?? m[2]!, port });
      }
      if (seeds.length === 0) throw new FieldProblem('must list at least one host:port seed node');
      return seeds;
    }),
  ),
};

export interface RedisConnectionConfig {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: readonly ClusterSeed[] | undefined;
}

/**
 * A standalone service's rule: Redis (one, or a cluster) is required. With a cluster, REDIS_URL
 * may carry only credentials and TLS: a cluster has database 0 alone.
 */
export function requireRedis(config: RedisConnectionConfig, opts: { required: boolean }): void {
  if (opts.required && !config.REDIS_URL && !config.REDIS_CLUSTER_NODES) {
    throw new ConfigError('REDIS_URL', 'is required but not set (or set REDIS_CLUSTER_NODES to use a Redis Cluster)');
  }
  if (config.REDIS_CLUSTER_NODES && config.REDIS_URL) {
    const db = new URL(config.REDIS_URL).pathname.replace(/^\//, '');
    if (db !== '' && db !== '0') {
      throw new ConfigError('REDIS_URL', `names database ${db}, but a Redis Cluster has only database 0 (REDIS_CLUSTER_NODES is set)`);
    }
  }
}
