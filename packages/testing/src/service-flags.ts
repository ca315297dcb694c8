import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.ts';

/**
 * The node flags a service ships with. Its package.json `start` script, `exec node <flags>
 * src/main.ts`, is the one place they are written (the gateway's and the agent's V8 heap flags);
 * the image CMD, the systemd unit and compose must pass the same, and the bench starts the service
 * with them.
 */
export function serviceNodeFlags(service: 'gateway' | 'registry' | 'capture-agent'): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, `services/${service}/package.json`), 'utf8')) as { scripts: { start: string } };
  const m = /^exec node ((?:--\S+ )*)src\/main\.ts$/.exec(pkg.scripts.start);
  if (!m) throw new Error(`services/${service}/package.json: start script is not "exec node [flags] src/main.ts": ${pkg.scripts.start}`);
  return m[1]!.split(' ').filter(Boolean);
}
