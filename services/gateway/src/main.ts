import { RedisFrameBus } from '@framecast/bus';
import { configOrExit } from '@framecast/config';
import { handleShutdownSignals } from '@framecast/lifecycle';
import { createLogger } from '@framecast/logging';
import { RedisRegistryStore } from '@framecast/registry-store';
import { loadGatewayConfig } from './config.ts';
import { buildGateway } from './gateway.ts';

const { config, unknown } = configOrExit('framecast-gateway', () => loadGatewayConfig(process.env));
const logger = createLogger('gateway', config.LOG_LEVEL);
if (unknown.length > 0) logger.warn({ variables: unknown }, 'unknown FRAMECAST_* environment variables ignored');

const bus = new RedisFrameBus({ url: config.REDIS_URL!, connectionName: `framecast-gateway:${config.FRAMECAST_GATEWAY_ID}` });
bus.on('connectionError', (err: Error) => logger.debug({ err: err.message }, 'redis connection error'));
// Room privacy and presence live in the registry's Redis keys; the gateway reads and writes them directly.
const control = new RedisRegistryStore({ url: config.REDIS_URL!, connectionName: `framecast-gateway:${config.FRAMECAST_GATEWAY_ID}:control` });
const gateway = await buildGateway({ config, bus, logger, control: { publicRooms: control, presence: control } });
const { port } = await gateway.listen();
logger.info({ port, host: config.HOST, id: config.FRAMECAST_GATEWAY_ID }, 'gateway listening');

handleShutdownSignals({
  logger,
  service: 'gateway',
  timeoutMs: config.FRAMECAST_SHUTDOWN_TIMEOUT_MS,
  stop: () => gateway.shutdown().then(() => control.close()),
});
