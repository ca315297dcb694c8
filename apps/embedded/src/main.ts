import { runService } from '@framecast/lifecycle';
import { describeRedisTarget, redisTargetOf } from '@framecast/bus';
import { EMBEDDED_VERSION, loadEmbeddedConfig, startEmbedded } from './embedded.ts';

await runService({
  name: 'framecast',
  command: 'framecast',
  version: EMBEDDED_VERSION,
  listenHint: 'set PORT',
  loadConfig: (env) => loadEmbeddedConfig(env),
  async start({ config, logger }) {
    // The embedded parts bind while starting (the agent heartbeats to the gateway's port).
    const embedded = await startEmbedded(config, logger);
    const redis = redisTargetOf(config.gateway);
    return {
      async listen() {
        const bus = redis ? describeRedisTarget(redis) : 'the in-memory bus (set REDIS_URL to use Redis)';
        const webhooks = redis ? 'on' : 'off (they need Redis)';
        const auth = embedded.auth === 'on' ? 'on' : 'OFF: every room is open and the admin API needs no key (FRAMECAST_AUTH=on to change that)';
        process.stdout.write(
          `\n  framecast is running on ${bus}.\n  Open ${embedded.url} to watch room "${embedded.room}", or ${embedded.directoryUrl} for every room (a grid: ${embedded.directoryUrl}grid).\n` +
            `  Registry API: ${embedded.apiUrl} (OpenAPI document: ${embedded.apiUrl}/openapi.json); webhooks ${webhooks}.\n  Auth is ${auth}.\n\n`,
        );
        return { fields: { url: embedded.url, room: embedded.room, api: embedded.apiUrl }, message: 'framecast embedded running' };
      },
      stop: () => embedded.stop(),
    };
  },
});
