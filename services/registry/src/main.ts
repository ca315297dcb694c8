import { configOrExit } from '@framecast/config';
import { handleShutdownSignals } from '@framecast/lifecycle';
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

handleShutdownSignals({ logger, service: 'registry', timeoutMs: config.FRAMECAST_SHUTDOWN_TIMEOUT_MS, stop: () => server.shutdown() });
