import { readFileSync } from 'node:fs';

/** Which framecast process answers a /healthz. */
export type ServiceName = 'gateway' | 'registry' | 'capture-agent' | 'embedded';

/**
 * The one /healthz body every framecast process answers with (gateway, registry, capture agent,
 * embedded runner): `status` ("ok", or "failing" with a 503 where the service can tell it is not
 * doing its job, e.g. an agent whose camera is down), the service name, its package version and
 * its uptime in whole seconds, then the service's own details. The common fields come first and
 * a detail never overrides them.
 */
export interface HealthBody {
  status: 'ok' | 'failing';
  service: ServiceName;
  version: string;
  uptimeS: number;
  [detail: string]: unknown;
}

export interface HealthIdentity {
  service: ServiceName;
  version: string;
}

export function healthBody(identity: HealthIdentity, status: HealthBody['status'], details: Record<string, unknown> = {}): HealthBody {
  const body: HealthBody = { status, service: identity.service, version: identity.version, uptimeS: Math.floor(process.uptime()) };
  for (const [key, value] of Object.entries(details)) if (!(key in body)) body[key] = value;
  return body;
}

/** The `version` of a package.json, e.g. `packageVersion(new URL('../package.json', import.meta.url))`. */
export function packageVersion(packageJson: URL): string {
  try {
    const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version?: unknown };
    return typeof version === 'string' ? version : 'unknown';
  } catch {
    return 'unknown';
  }
}
