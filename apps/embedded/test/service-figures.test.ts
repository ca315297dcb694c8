import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startService, startTestRedis, stopAllServices, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import { startAgent, startGateway, type GatewayProcess } from '../../../services/gateway/test/helpers.ts';
import { ADMIN_KEY, startRegistry, type RegistryProcess } from '../../../services/registry/test/helpers.ts';

// Issue 9: the figures services report about themselves and about cameras agree with each other.
const HEARTBEAT_MS = 2000;

let redis: TestRedis;
let reg: RegistryProcess;
let gw: GatewayProcess;
let agent: ServiceProcess;
let agentMetricsPort: number;
let embedded: ServiceProcess;
let embeddedPort: number;

beforeAll(async () => {
  redis = await startTestRedis();
  reg = await startRegistry(redis.url);
  const key = (await reg.api('POST', '/agent-keys', { name: 'box', rooms: ['figures'] })).body.key as string;
  gw = await startGateway(redis.url);
  agentMetricsPort = await freePort();
  agent = await startAgent(redis.url, 'figures', 'testsrc', {
    FRAMECAST_REGISTRY_URL: reg.url,
    FRAMECAST_AGENT_KEY: key,
    FRAMECAST_AGENT_ID: 'box-1',
    FRAMECAST_HEARTBEAT_INTERVAL_MS: String(HEARTBEAT_MS),
    FRAMECAST_METRICS_PORT: String(agentMetricsPort),
    FRAMECAST_METRICS_HOST: '127.0.0.1',
  });
  embeddedPort = await freePort();
  embedded = await startService('embedded', {
    entry: 'apps/embedded/src/main.ts',
    env: { PORT: String(embeddedPort), HOST: '127.0.0.1' },
    readyLine: /framecast embedded running/,
  });
}, 90_000);
afterAll(async () => {
  await stopAllServices();
  await redis?.close();
});

async function health(port: number): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('/healthz', () => {
  it('has one shape in every service: status, service, version, uptimeS first, then its own details', async () => {
    await waitFor('agent streaming', async () => (await health(agentMetricsPort)).status === 200, 15_000);
    const answers = {
      gateway: await health(gw.port),
      registry: await health(reg.port),
      'capture-agent': await health(agentMetricsPort),
      embedded: await health(embeddedPort),
    };
    for (const [service, { status, body }] of Object.entries(answers)) {
      expect(status, service).toBe(200);
      expect(Object.keys(body).slice(0, 4), service).toEqual(['status', 'service', 'version', 'uptimeS']);
      expect(body, service).toMatchObject({ status: 'ok', service, version: '0.1.0' });
      expect(Number.isInteger(body.uptimeS) && (body.uptimeS as number) >= 0, service).toBe(true);
    }
    expect(answers.gateway.body).toMatchObject({ id: `gw-${gw.port}`, viewers: 0 });
    expect(answers.registry.body).toMatchObject({ id: `reg-${reg.port}`, store: 'redis' });
    expect(answers['capture-agent'].body).toMatchObject({ busUp: true, cameras: [expect.objectContaining({ camera: 'figures', state: 'streaming' })] });
    expect(answers['capture-agent'].body).not.toHaveProperty('ok');
  });
});

describe('camera figures in the registry', () => {
  it("report the agent's lastFrameAgeMs as of its heartbeat, not aged by the time since (a live camera kept publishing)", async () => {
    const view = async () => {
      const res = await reg.api('GET', '/rooms/figures', undefined, ADMIN_KEY);
      return res.body as { live: boolean; cameras: Array<{ fps: number; lastFrameAgeMs: number; lastHeartbeatAt: number }> };
    };
    await waitFor('camera reported with fps', async () => {
      const v = await view();
      return v.live && (v.cameras[0]?.fps ?? 0) > 0;
    }, 15_000);
    // Read late in a heartbeat interval, when the old rule would have added a second or more.
    const late = await waitFor('a read at least half an interval after the heartbeat', async () => {
      const v = await view();
      const c = v.cameras[0]!;
      return Date.now() - c.lastHeartbeatAt >= HEARTBEAT_MS / 2 ? { c, sinceHeartbeat: Date.now() - c.lastHeartbeatAt } : null;
    }, HEARTBEAT_MS * 3);
    expect(late.sinceHeartbeat).toBeGreaterThanOrEqual(HEARTBEAT_MS / 2);
    // A 15 fps camera's newest frame is ~66 ms old (plus scheduling on a busy machine).
    expect(late.c.lastFrameAgeMs).toBeGreaterThanOrEqual(0);
    expect(late.c.lastFrameAgeMs).toBeLessThan(500);
    // The agent's own live figure is of the same order.
    const agentCamera = ((await health(agentMetricsPort)).body.cameras as Array<{ lastFrameAgeMs: number }>)[0]!;
    expect(agentCamera.lastFrameAgeMs).toBeLessThan(500);
  });
});
