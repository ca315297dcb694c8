import { RedisFrameBus } from '@framecast/bus';
import { configOrExit } from '@framecast/config';
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
const gateway = await buildGateway({ config, bus, logger, control: { privateRooms: control, presence: control } });
const { port } = await gateway.listen();
logger.info({ port, host: config.HOST, id: config.FRAMECAST_GATEWAY_ID }, 'gateway listening');

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
  gateway
    .shutdown()
    .then(() => control.close())
    .then(
      () => {
        logger.info('gateway stopped');
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
