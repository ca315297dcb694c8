import module from 'node:module';
import { configOrExit, type Env, type LoadedConfig } from '@framecast/config';
import { createLogger, type Logger } from '@framecast/logging';
import { compactHeap } from './compact-heap.ts';
import { handleShutdownSignals } from './shutdown.ts';

type LogLevel = Parameters<typeof createLogger>[1];

/** The fields runService reads from every service's config. */
export interface ServiceBaseConfig {
  LOG_LEVEL: LogLevel;
  FRAMECAST_SHUTDOWN_TIMEOUT_MS: number;
}

/** What `listen()` reports: the start-up line's fields and, if it says more than "<name> listening", its text. */
export interface ListeningInfo {
  fields: Record<string, unknown>;
  message?: string;
}

/** A built, not yet listening, service. */
export interface StartedService {
  /** Binds its ports; a bind failure (a taken port) ends the process with code 2 and one line naming the address. */
  listen(): Promise<ListeningInfo>;
  /** Closes everything in order; resolving means a clean stop. Runs once, on SIGTERM/SIGINT. */
  stop(): Promise<void>;
  /** Extra fields for the "stopped" line, read when it is written. */
  stoppedFields?: () => Record<string, unknown>;
}

export interface ServiceDefinition<C extends ServiceBaseConfig> {
  /** Short name: the logger's `service` field and, without a title, the lines "<name> listening" / "<name> stopped". */
  name: string;
  /** How log lines name the service ("capture agent stopped"); `name` when not given. */
  title?: string;
  /** Prefix of configuration and start-up errors on stderr (the command's name, `framecast-gateway`). */
  command: string;
  /** What `--version` prints after the command's name (its package.json version). */
  version: string;
  /** Appended to a bind failure's line: which variable moves the port ("set PORT"). */
  listenHint?: string;
  /** Validates the environment; throws ConfigError naming the bad variable. */
  loadConfig: (env: Env) => LoadedConfig<C>;
  /** Builds the service from its config: connections, servers, timers. */
  start: (ctx: { config: Readonly<C>; logger: Logger }) => Promise<StartedService>;
}

/**
 * The one way a framecast process starts and stops: configuration or a one-line error and exit 2,
 * the JSON logger, a warning naming unknown FRAMECAST_* variables, start and listen (a taken port
 * is exit 2 with the address named, not a stack trace), then SIGTERM/SIGINT → `stop()` within
 * FRAMECAST_SHUTDOWN_TIMEOUT_MS (exit 0), exit 1 when the deadline passes first.
 */
export async function runService<C extends ServiceBaseConfig>(def: ServiceDefinition<C>, env: Env = process.env): Promise<{ config: Readonly<C>; logger: Logger; service: StartedService }> {
  if (process.argv.slice(2).includes('--version')) printVersionAndExit(def.command, def.version);
  const { config, unknown } = configOrExit(def.command, () => def.loadConfig(env));
  const logger = createLogger(def.name, config.LOG_LEVEL);
  const title = def.title ?? def.name;
  if (unknown.length > 0) logger.warn({ variables: unknown }, 'unknown FRAMECAST_* environment variables ignored');
  let service: StartedService | undefined;
  let listening: ListeningInfo;
  let compactMs: number | null = null;
  try {
    service = await def.start({ config, logger });
    const started = service;
    // Signals are handled from here on: a SIGTERM while listening still stops what start() opened.
    handleShutdownSignals({ logger, service: title, timeoutMs: config.FRAMECAST_SHUTDOWN_TIMEOUT_MS, stop: () => started.stop(), stoppedFields: started.stoppedFields });
    // Start-up's garbage goes before the first client comes: ~10 MB less resident for ~40 ms.
    compactMs = compactHeap();
    listening = await service.listen();
  } catch (err) {
    if (!isBindError(err)) throw err;
    // A taken or wrong address is the operator's to fix: one line, no stack trace.
    const where = err.address ? ` on ${err.address}:${err.port}` : '';
    process.stderr.write(`${def.command}: cannot listen${where}: ${err.message}${def.listenHint ? ` (${def.listenHint})` : ''}\n`);
    await service?.stop().catch(() => {});
    process.exit(2);
  }
  logger.info({ ...listening.fields, heapCompactMs: compactMs === null ? null : Math.round(compactMs) }, listening.message ?? `${title} listening`);
  return { config, logger, service };
}

/**
 * `<command> --version`: the name and version, exit 0. It runs after every module of the service
 * has loaded, so it also fills Node's compile cache (the image runs it at build time).
 */
export function printVersionAndExit(command: string, version: string): never {
  process.stdout.write(`${command} ${version}\n`);
  module.flushCompileCache?.();
  process.exit(0);
}

function isBindError(err: unknown): err is NodeJS.ErrnoException & { address?: string; port?: number } {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES';
}
