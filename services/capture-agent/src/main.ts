import { RedisFrameBus } from '@framecast/bus';
import { configOrExit } from '@framecast/config';
import { createLogger } from '@framecast/logging';
import { startCaptureAgent } from './agent.ts';
import { loadAgentConfigFromCli, parseAgentArgs, USAGE, UsageError } from './cli-args.ts';

const NAME = 'framecast-agent';

function parseOrExit() {
  try {
    return parseAgentArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${NAME}: ${err.message} (see --help)\n`);
    process.exit(2);
  }
}

const args = parseOrExit();
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}
const { config, unknown } = configOrExit(NAME, () => loadAgentConfigFromCli(args.values, process.env));
const logger = createLogger('capture-agent', config.LOG_LEVEL);
if (unknown.length > 0) logger.warn({ variables: unknown }, 'unknown FRAMECAST_* environment variables ignored');

// The schema requires REDIS_URL for the CLI, so it is set here.
const bus = new RedisFrameBus({ url: config.REDIS_URL!, connectionName: NAME });
// ioredis reports each failed reconnect attempt; the publisher logs the down/up transitions.
bus.on('connectionError', (err: Error) => logger.debug({ err: err.message }, 'redis connection error'));
const agent = await startCaptureAgent({ config, bus, logger });
const { width, height } = config.FRAMECAST_SIZE;
logger.info(
  { room: config.FRAMECAST_ROOM, source: config.FRAMECAST_SOURCE, fps: config.FRAMECAST_FPS, size: `${width}x${height}` },
  'capture agent started',
);

const statsTimer =
  config.FRAMECAST_STATS_INTERVAL_MS > 0
    ? setInterval(() => {
        const mem = process.memoryUsage();
        logger.info({ ...agent.stats(), rssBytes: mem.rss, heapUsedBytes: mem.heapUsed }, 'capture agent stats');
      }, config.FRAMECAST_STATS_INTERVAL_MS)
    : null;

let stopping = false;
function shutdown(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  if (statsTimer) clearInterval(statsTimer);
  const deadline = setTimeout(() => {
    logger.error({ timeoutMs: config.FRAMECAST_SHUTDOWN_TIMEOUT_MS }, 'shutdown deadline passed; exiting');
    process.exit(1);
  }, config.FRAMECAST_SHUTDOWN_TIMEOUT_MS);
  deadline.unref();
  // The source first (ffmpeg killed and reaped, no frame in flight), then the Redis connection.
  agent
    .stop()
    .then(() => bus.close())
    .then(
      () => {
        logger.info({ ...agent.stats() }, 'capture agent stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
