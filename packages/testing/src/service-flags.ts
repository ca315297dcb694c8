import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './processes.ts';

type Service = 'gateway' | 'registry' | 'capture-agent';

/** A service's `start` script, `exec node <flags> bin/<command>.js`: its flags and its entry. */
function startScript(service: Service): { flags: string[]; entry: string } {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, `services/${service}/package.json`), 'utf8')) as { scripts: { start: string } };
  const m = /^exec node ((?:--\S+ )*)(bin\/[\w-]+\.js)$/.exec(pkg.scripts.start);
  if (!m) throw new Error(`services/${service}/package.json: start script is not "exec node [flags] bin/<command>.js": ${pkg.scripts.start}`);
  return { flags: m[1]!.split(' ').filter(Boolean), entry: `services/${service}/${m[2]!}` };
}

/**
 * The node flags a service ships with. Its package.json `start` script is the one place they are
 * written (the gateway's and the agent's V8 heap flags); the image CMD, the systemd unit and
 * compose must pass the same, and the bench starts the service with them.
 */
export function serviceNodeFlags(service: Service): string[] {
  return startScript(service).flags;
}

/** The file a service ships starting from (its bin, which turns on the compile cache), from the repository root. */
export function serviceEntry(service: Service): string {
  return startScript(service).entry;
}
