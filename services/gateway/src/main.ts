import { describeRedisTarget, RedisFrameBus, RedisProblemLog, redisTargetOf } from '@framecast/bus';
import { runService } from '@framecast/lifecycle';
import { RedisRegistryStore } from '@framecast/registry-store';
import { loadGatewayConfig } from './config.ts';
import { buildGateway, GATEWAY_VERSION } from './gateway.ts';

await runService({
  name: 'gateway',
  command: 'framecast-gateway',
  version: GATEWAY_VERSION,
  listenHint: 'set PORT',
  loadConfig: (env) => loadGatewayConfig(env),
  async start({ config, logger }) {
    const commandTimeoutMs = config.FRAMECAST_REDIS_COMMAND_TIMEOUT_MS;
    // The config requires REDIS_URL or REDIS_CLUSTER_NODES standalone, so a target is set here.
    const redis = redisTargetOf(config)!;
    const bus = new RedisFrameBus({ redis, connectionName: `framecast-gateway:${config.FRAMECAST_GATEWAY_ID}`, commandTimeoutMs });
    // Room privacy and presence live in the registry's Redis keys; the gateway reads and writes them directly.
    const control = new RedisRegistryStore({ redis, connectionName: `framecast-gateway:${config.FRAMECAST_GATEWAY_ID}:control`, commandTimeoutMs });
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
    if (bus.sharded) {
      // After a failover or a slot migration: each watched channel is subscribed again on its new primary.
      bus.on('resubscribed', () => logger.info({ redis: describeRedisTarget(redis) }, 'Redis Cluster slot map changed: sharded subscriptions re-established'));
    }
    const gateway = await buildGateway({ config, bus, logger, control: { publicRooms: control, presence: control } });
    return {
      async listen() {
        const { port } = await gateway.listen();
        // Where to point a browser: the viewer page of any room (a private one takes #token=<jwt>).
        const pageHost = config.HOST === '0.0.0.0' || config.HOST === '::' ? 'localhost' : config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
        const viewerPage = `http://${pageHost}:${port}/rooms/<room>`;
        return { fields: { port, host: config.HOST, id: config.FRAMECAST_GATEWAY_ID, viewerPage }, message: `gateway listening; viewer page: ${viewerPage}` };
      },
      stop: () => gateway.shutdown().then(() => control.close()),
    };
  },
});
