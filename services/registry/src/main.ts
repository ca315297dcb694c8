import { configOrExit } from '@framecast/config';
import { createLogger } from '@framecast/logging';
import { loadRegistryConfig } from './config.ts';
import { buildRegistryServer } from './server.ts';

const NAME = 'framecast-registry';
const { config, unknown } = configOrExit(NAME, () => loadRegistryConfig(process.env));
const logger = createLogger('registry', config.LOG_LEVEL);
if (unknown.length > 0) logger.warn({ variables: unknown }, 'unknown FRAMECAST_* environment variables ignored');

const server = await buildRegistryServer(config, logger);
const { port } = await server.listen();
logger.info({ port, host: config.HOST, id: config.FRAMECAST_REGISTRY_ID, auth: config.FRAMECAST_AUTH }, 'registry listening');

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  const hard = setTimeout(() => {
    logger.error({ timeoutMs: config.FRAMECAST_SHUTDOWN_TIMEOUT_MS }, 'shutdown deadline passed; exiting');
    process.exit(1);
  }, config.FRAMECAST_SHUTDOWN_TIMEOUT_MS);
  hard.unref();
  server.shutdown().then(
    () => {
      logger.info('registry stopped');
      process.exit(0);
    },
    (err: unknown) => {
      logger.error({ err: String(err) }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
