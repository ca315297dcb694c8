import { configOrExit } from '@framecast/config';
import { loadEmbeddedConfig, startEmbedded } from './embedded.ts';

const embedded = await startEmbedded(configOrExit('framecast', () => loadEmbeddedConfig(process.env)));
const bus = process.env.REDIS_URL ? `Redis at ${process.env.REDIS_URL}` : 'the in-memory bus (set REDIS_URL to use Redis)';
embedded.logger.info({ url: embedded.url, room: embedded.room }, 'framecast embedded running');
process.stdout.write(`\n  framecast is running on ${bus}.\n  Open ${embedded.url} to watch room "${embedded.room}".\n\n`);

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
