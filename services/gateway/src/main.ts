import { RedisFrameBus, RedisProblemLog } from '@framecast/bus';
import { configOrExit } from '@framecast/config';
import { handleShutdownSignals } from '@framecast/lifecycle';
import { createLogger } from '@framecast/logging';
import { RedisRegistryStore } from '@framecast/registry-store';
import { loadGatewayConfig } from './config.ts';
import { buildGateway } from './gateway.ts';

const { config, unknown } = configOrExit('framecast-gateway', () => loadGatewayConfig(process.env));
const logger = createLogger('gateway', config.LOG_LEVEL);
if (unknown.length > 0) logger.warn({ variables: unknown }, 'unknown FRAMECAST_* environment variables ignored');

const commandTimeoutMs = config.FRAMECAST_REDIS_COMMAND_TIMEOUT_MS;
const bus = new RedisFrameBus({ url: config.REDIS_URL!, connectionName: `framecast-gateway:${config.FRAMECAST_GATEWAY_ID}`, commandTimeoutMs });
// Room privacy and presence live in the registry's Redis keys; the gateway reads and writes them directly.
const control = new RedisRegistryStore({ url: config.REDIS_URL!, connectionName: `framecast-gateway:${config.FRAMECAST_GATEWAY_ID}:control`, commandTimeoutMs });
// Every failed connect attempt is an 'error'; the cause (a refused password, say) is logged once
// per episode, not once per retry, and the episode ends when the bus is ready again.
const redisProblems = new RedisProblemLog(logger, { what: 'gateway' });
const onRedisError = (err: Error) => {
  logger.debug({ err: err.message }, 'redis connection error');
  redisProblems.report(err);
};
bus.on('connectionError', onRedisError);
control.connection.on('error', onRedisError);
bus.on('ready', () => redisProblems.clear());
const gateway = await buildGateway({ config, bus, logger, control: { publicRooms: control, presence: control } });
const { port } = await gateway.listen();
// Where to point a browser: the viewer page of any room (a private one takes #token=<jwt>).
const pageHost = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
const viewerPage = `http://${pageHost}:${port}/rooms/<room>`;
logger.info({ port, host: config.HOST, id: config.FRAMECAST_GATEWAY_ID, viewerPage }, `gateway listening; viewer page: ${viewerPage}`);

handleShutdownSignals({
  logger,
  service: 'gateway',
  timeoutMs: config.FRAMECAST_SHUTDOWN_TIMEOUT_MS,
  stop: () => gateway.shutdown().then(() => control.close()),
});
