import fastify from 'fastify';
import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { collectNodeMetrics, HttpRequestMetrics, methodLabel, statusClass, zeroCounter } from './index.ts';

describe('@framecast/metrics', () => {
  it('exposes Node process metrics under their standard, unprefixed names', async () => {
    const register = new Registry();
    collectNodeMetrics(register);
    const text = await register.metrics();
    for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_p99_seconds']) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    expect(text).not.toMatch(/framecast_/);
  });

  it('bounds the method and status labels', () => {
    expect(['GET', 'POST', 'PROPFIND', 'get'].map(methodLabel)).toEqual(['GET', 'POST', 'other', 'other']);
    expect([200, 204, 301, 404, 503, 101, 999].map(statusClass)).toEqual(['2xx', '2xx', '3xx', '4xx', '5xx', 'other', 'other']);
  });

  it('labels fastify requests by route pattern, never by the path a client chose', async () => {
    const register = new Registry();
    const http = new HttpRequestMetrics(register);
    const app = fastify();
    http.instrument(app);
    await app.register(
      async (api) => {
        api.get('/rooms/:room', async (req, reply) => ((req.params as { room: string }).room === 'gone' ? reply.code(404).send() : { ok: true }));
      },
      { prefix: '/api' },
    );
    for (const room of ['a', 'b', 'gone']) await app.inject({ method: 'GET', url: `/api/rooms/${room}` });
    for (const path of ['/x1', '/x2']) await app.inject({ method: 'GET', url: path });
    await app.inject({ method: 'PROPFIND', url: '/api/rooms/a' });
    const text = await register.metrics();
    const count = (labels: string) => Number(new RegExp(`^http_request_duration_seconds_count\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    expect(count('route="/api/rooms/:room",method="GET",status_class="2xx"')).toBe(2);
    expect(count('route="/api/rooms/:room",method="GET",status_class="4xx"')).toBe(1);
    expect(count('route="unmatched",method="GET",status_class="4xx"')).toBe(2);
    expect(count('route="unmatched",method="other",status_class="4xx"')).toBe(1);
    // Six requests to five paths, and only the four label sets above: no raw path became a label.
    expect(text.match(/^http_request_duration_seconds_count/gm)).toHaveLength(4);
    await app.close();
  });

  it('declares routes and counter labels at 0 so queries find them before the first event', async () => {
    const register = new Registry();
    new HttpRequestMetrics(register).declare('/healthz');
    const closes = new Counter({ name: 'closes_total', help: 'h', labelNames: ['code', 'kind'], registers: [register] });
    zeroCounter(closes, 'code', ['1000', '4508'], { kind: 'ws' });
    const text = await register.metrics();
    expect(text).toMatch(/^http_request_duration_seconds_count\{route="\/healthz",method="GET",status_class="2xx"\} 0$/m);
    expect(text).toMatch(/^closes_total\{kind="ws",code="1000"\} 0$/m);
    expect(text).toMatch(/^closes_total\{kind="ws",code="4508"\} 0$/m);
  });
});
