import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from '@framecast/redis';
import { REGISTRY_KEY_TEMPLATES } from '@framecast/protocol';

const PRELUDE = readFileSync(new URL('./lua/prelude.lua', import.meta.url), 'utf8').replace(
  '__KEY_TEMPLATES__',
  `{ ${Object.entries(REGISTRY_KEY_TEMPLATES)
    .map(([name, template]) => `[${JSON.stringify(name)}] = ${JSON.stringify(template)}`)
    .join(', ')} }`,
);

/**
 * A Lua script run with EVALSHA, falling back to EVAL once after a Redis restart (NOSCRIPT), so the
 * usual call sends only the SHA and the arguments. Every script gets the shared prelude.
 */
export class LuaScript {
  readonly source: string;
  readonly sha: string;

  readonly name: string;

  constructor(name: string) {
    this.name = name;
    this.source = `${PRELUDE}\n${readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8')}`;
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  async run(redis: RedisClient, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

export const scripts = {
  presence: new LuaScript('presence'),
  heartbeat: new LuaScript('heartbeat'),
  sweep: new LuaScript('sweep'),
  rooms: new LuaScript('rooms'),
  webhooks: new LuaScript('webhooks'),
  listening: new LuaScript('listening'),
};
