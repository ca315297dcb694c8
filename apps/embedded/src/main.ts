import { configOrExit } from '@framecast/config';
import { loadEmbeddedConfig, startEmbedded } from './embedded.ts';

const embedded = await startEmbedded(configOrExit('framecast', () => loadEmbeddedConfig(process.env)));
const bus = process.env.REDIS_URL ? `Redis at ${process.env.REDIS_URL}` : 'the in-memory bus (set REDIS_URL to use Redis)';
const webhooks = process.env.REDIS_URL ? 'on' : 'off (they need Redis)';
const auth = embedded.auth === 'on' ? 'on' : 'OFF: every room is open and the admin API needs no key (FRAMECAST_AUTH=on to change that)';
embedded.logger.info({ url: embedded.url, room: embedded.room, api: embedded.apiUrl }, 'framecast embedded running');
process.stdout.write(
  `\n  framecast is running on ${bus}.\n  Open ${embedded.url} to watch room "${embedded.room}".\n` +
    `  Registry API: ${embedded.apiUrl} (OpenAPI document: ${embedded.apiUrl}/openapi.json); webhooks ${webhooks}.\n  Auth is ${auth}.\n\n`,
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    const hard = setTimeout(() => process.exit(1), 10_000);
    hard.unref();
    void embedded.stop().then(() => process.exit(0));
  });
}
