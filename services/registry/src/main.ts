import { runService } from '@framecast/lifecycle';
import { loadRegistryConfig } from './config.ts';
import { buildRegistryServer, REGISTRY_VERSION } from './server.ts';

await runService({
  name: 'registry',
  command: 'framecast-registry',
  version: REGISTRY_VERSION,
  listenHint: 'set PORT',
  loadConfig: (env) => loadRegistryConfig(env),
  async start({ config, logger }) {
    const server = await buildRegistryServer(config, logger);
    return {
      async listen() {
        const { port } = await server.listen();
        return { fields: { port, host: config.HOST, id: config.FRAMECAST_REGISTRY_ID, auth: config.FRAMECAST_AUTH } };
      },
      stop: () => server.shutdown(),
    };
  },
});
