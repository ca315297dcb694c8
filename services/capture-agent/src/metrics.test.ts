import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AgentMetrics } from './metrics.ts';
import { FRAME_DROP_REASONS, type CameraStats } from './pipeline/camera-pipeline.ts';
import { RESTART_REASONS } from './sources/supervisor.ts';

describe('AgentMetrics', () => {
  it('times the HTTP server it instruments by route, with unknown paths as unmatched', async () => {
    const metrics = new AgentMetrics({ defaultMetrics: false, cameras: () => [], busUp: () => true });
    const server = createServer((req, res) => res.writeHead(req.url === '/metrics' || req.url === '/healthz' ? 200 : 404).end());
    metrics.instrumentHttp(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const path of ['/metrics', '/metrics', '/healthz', '/secret-1', '/secret-2']) await (await fetch(base + path)).arrayBuffer();
    await new Promise<void>((r) => server.close(() => r()));
    const text = await metrics.register.metrics();
    const count = (labels: string) => Number(new RegExp(`^http_request_duration_seconds_count\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(count('route="/metrics",method="GET",status_class="2xx"')).toBe(2);
    expect(count('route="/healthz",method="GET",status_class="2xx"')).toBe(1);
    expect(count('route="unmatched",method="GET",status_class="4xx"')).toBe(2);
    expect(text).not.toContain('secret');
  });

  it('exposes Node process metrics under their standard names and every store-failure reason at 0', async () => {
    // The fields the metrics read; the rest of a camera's stats do not matter here.
    const camera = {
      camera: 'yard',
      kind: 'testsrc',
      state: 'streaming',
      captured: 0,
      published: 0,
      dropped: Object.fromEntries(FRAME_DROP_REASONS.map((r) => [r, 0])),
      restarts: Object.fromEntries(RESTART_REASONS.map((r) => [r, 0])),
      lastFrameStoreFailures: { oom: 2 },
      ffmpegPid: null,
      lastFrameAgeMs: null,
      variants: [{ variant: 'small', wanted: true, published: 7, encodeSeconds: 0.035, problem: null }],
    } as unknown as CameraStats;
    const metrics = new AgentMetrics({ cameras: () => [camera], busUp: () => true });
    const text = await metrics.register.metrics();
    expect(text).toContain('framecast_agent_variant_wanted{camera="yard",variant="small"} 1');
    expect(text).toContain('framecast_agent_variant_frames_total{camera="yard",variant="small"} 7');
    expect(text).toMatch(/^process_resident_memory_bytes /m);
    expect(text).not.toMatch(/framecast_agent_(process|nodejs)_/);
    expect(text).toMatch(/^framecast_agent_last_frame_store_failures_total\{camera="yard",reason="oom"\} 2$/m);
    expect(text).toMatch(/^framecast_agent_last_frame_store_failures_total\{camera="yard",reason="timeout"\} 0$/m);
  });
});
