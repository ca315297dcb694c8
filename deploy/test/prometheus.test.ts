import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { freePort, startAgent, startService, startTestRedis, stopAllServices, TestViewer, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import {
  ALERTS_DIR,
  alertRules,
  COMPOSE_PROMETHEUS_CONFIG,
  dashboard,
  dashboardQueries,
  hasPromtool,
  promtool,
  substituteGrafanaVariables,
  vectorSelectors,
} from './observability-files.ts';

// A real Prometheus (Debian's `prometheus`, as CI installs it) scraping a registry, two gateways
// and a capture agent started with the environment docker-compose gives them (auth on, room `demo`
// public, the agent on ffmpeg:testsrc heartbeating with an agent key), with real viewers watching.
// Its configuration is the compose one (deploy/observability/prometheus/prometheus.yml) with the
// targets pointed at these processes and a 1 s scrape interval. Then every dashboard query and
// every alert expression goes through its HTTP API.

const METRICS_DOC = new URL('../../docs/METRICS.md', import.meta.url);
const ADMIN_KEY = 'prometheus-test-admin-key-0123456789';
const TOKEN_SECRET = 'prometheus-test-token-secret-0123456789abcdef';
const ROOM = 'demo';
/** One deadline for "series appear": several scrapes, a heartbeat (5 s) and a presence report. */
const SERIES_DEADLINE_MS = 45_000;

let redis: TestRedis;
let registry: ServiceProcess & { port: number };
const gateways: Array<ServiceProcess & { port: number }> = [];
let agent: ServiceProcess & { port: number };
const viewers: TestViewer[] = [];
let prometheus: ChildProcess | null = null;
let prometheusUrl = '';
let dir = '';

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`http://127.0.0.1:${registry.port}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

interface PromSeries {
  metric: Record<string, string>;
  value: [number, string];
}

/** An instant query; throws with Prometheus' own message when the expression does not parse. */
async function query(expr: string): Promise<PromSeries[]> {
  const res = await fetch(`${prometheusUrl}/api/v1/query?${new URLSearchParams({ query: expr })}`);
  const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: PromSeries[] } };
  if (body.status !== 'success') throw new Error(`query failed: ${expr}\n${body.error}`);
  if (body.data!.resultType !== 'vector') throw new Error(`not an instant vector (${body.data!.resultType}): ${expr}`);
  return body.data!.result;
}

/** Waits until `expr` returns at least one series; the error names the expression. */
function someSeries(expr: string, deadline: number): Promise<PromSeries[]> {
  return waitFor(`series for ${expr}`, async () => ((await query(expr)).length > 0 ? query(expr) : null), Math.max(1000, deadline - Date.now()), 250);
}

/**
 * The compose Prometheus configuration, pointed at this test's processes: each compose job keeps
 * its name and gets static loopback targets; the rule glob keeps its pattern under the real
 * alerts folder (so it must still skip the promtool test file beside the rules).
 */
function prometheusConfig(targets: Record<string, string[]>): string {
  const config = parse(readFileSync(COMPOSE_PROMETHEUS_CONFIG, 'utf8')) as {
    global: Record<string, string>;
    rule_files: string[];
    scrape_configs: Array<{ job_name: string } & Record<string, unknown>>;
  };
  config.global = { ...config.global, scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' };
  config.rule_files = config.rule_files.map((f) => f.replace(/^\/etc\/prometheus\/rules/, ALERTS_DIR));
  config.scrape_configs = config.scrape_configs.map((job) => {
    const t = targets[job.job_name];
    if (!t) throw new Error(`compose scrapes a job this test does not start: ${job.job_name}`);
    return { job_name: job.job_name, static_configs: [{ targets: t }] };
  });
  return stringify(config);
}

beforeAll(async () => {
  if (!hasPromtool()) throw new Error('prometheus/promtool not installed: apt-get install -y prometheus (.ci/run does)');
  dir = mkdtempSync(join(tmpdir(), 'framecast-prometheus-'));
  redis = await startTestRedis();

  const registryPort = await freePort();
  registry = Object.assign(
    await startService('registry', {
      entry: 'services/registry/src/main.ts',
      env: {
        REDIS_URL: redis.url,
        HOST: '127.0.0.1',
        PORT: String(registryPort),
        FRAMECAST_REGISTRY_ID: 'registry-1',
        FRAMECAST_ADMIN_KEY: ADMIN_KEY,
        FRAMECAST_TOKEN_SECRET: TOKEN_SECRET,
        FRAMECAST_TRUST_PROXY: '1',
      },
      readyLine: /registry listening/,
    }),
    { port: registryPort },
  );
  // What compose's bootstrap does: room `demo` public, an agent key for it.
  await api('POST', '/rooms', { name: ROOM, visibility: 'public' });
  const { key } = (await api('POST', '/agent-keys', { name: 'compose agent', rooms: [ROOM] })) as { key: string };

  for (const id of ['gateway-1', 'gateway-2']) {
    const port = await freePort();
    const svc = await startService(id, {
      entry: 'services/gateway/src/main.ts',
      env: { REDIS_URL: redis.url, HOST: '127.0.0.1', PORT: String(port), FRAMECAST_GATEWAY_ID: id, FRAMECAST_TOKEN_SECRET: TOKEN_SECRET },
      readyLine: /gateway listening/,
    });
    gateways.push(Object.assign(svc, { port }));
  }

  const agentPort = await freePort();
  agent = Object.assign(
    await startAgent({
      REDIS_URL: redis.url,
      FRAMECAST_ROOM: ROOM,
      FRAMECAST_SOURCE: 'ffmpeg:testsrc',
      FRAMECAST_FPS: '15',
      FRAMECAST_SIZE: '640x360',
      FRAMECAST_REGISTRY_URL: `http://127.0.0.1:${registryPort}`,
      FRAMECAST_AGENT_ID: 'compose-agent',
      FRAMECAST_AGENT_KEY: key,
      FRAMECAST_METRICS_PORT: String(agentPort),
      FRAMECAST_METRICS_HOST: '127.0.0.1',
    }),
    { port: agentPort },
  );

  // Real viewers: two on each gateway, the room public (no token), frames flowing to all four.
  for (const gw of gateways) for (let i = 0; i < 2; i++) viewers.push(new TestViewer(`ws://127.0.0.1:${gw.port}/ws/video/${ROOM}`, { hash: false }));
  await Promise.all(viewers.map((v) => v.opened));
  await waitFor('every viewer receiving frames', () => viewers.every((v) => v.frames.length >= 5), 20_000);

  const promPort = await freePort();
  prometheusUrl = `http://127.0.0.1:${promPort}`;
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    prometheusConfig({
      gateway: gateways.map((g) => `127.0.0.1:${g.port}`),
      registry: [`127.0.0.1:${registryPort}`],
      'capture-agent': [`127.0.0.1:${agentPort}`],
      prometheus: [`127.0.0.1:${promPort}`],
    }),
  );
  const check = await promtool(['check', 'config', configFile]);
  expect(check.code, check.output).toBe(0);
  const proc = spawn(
    'prometheus',
    [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  prometheus = proc;
  let log = '';
  proc.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  await waitFor(
    'prometheus ready',
    async () => {
      if (proc.exitCode !== null) throw new Error(`prometheus exited (${proc.exitCode}):\n${log}`);
      return (await fetch(`${prometheusUrl}/-/ready`).catch(() => null))?.ok ?? false;
    },
    20_000,
    100,
  );
  // Every target scraped successfully at least once.
  await waitFor(
    'every target up',
    async () => {
      const body = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as { data: { activeTargets: Array<{ health: string }> } };
      return body.data.activeTargets.length === 5 && body.data.activeTargets.every((t) => t.health === 'up');
    },
    20_000,
    200,
  );
}, 120_000);

afterAll(async () => {
  for (const v of viewers) v.terminate();
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await stopAllServices();
  await redis?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('metrics, dashboard and alerts against a real Prometheus', () => {
  it("every service's /metrics passes promtool check metrics under real traffic", async () => {
    // Traffic beyond the frames: an API read, a 404, a probe; the agent's heartbeats reached the registry.
    await fetch(`http://127.0.0.1:${registry.port}/api/rooms`);
    await fetch(`http://127.0.0.1:${registry.port}/api/nothing-here`);
    await fetch(`http://127.0.0.1:${gateways[0]!.port}/readyz`);
    const metricsDoc = readFileSync(METRICS_DOC, 'utf8');
    const targets = { 'gateway-1': gateways[0]!.port, 'gateway-2': gateways[1]!.port, registry: registry.port, 'capture-agent': agent.port };
    for (const [name, port] of Object.entries(targets)) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const { code, output } = await promtool(['check', 'metrics'], text);
      expect({ name, code, output }).toEqual({ name, code: 0, output: '' });
      // Node's process metrics under their standard names, no service prefix.
      expect(text).toMatch(/^process_resident_memory_bytes \d/m);
      expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
      expect(text).not.toMatch(/^framecast_\w+_(process|nodejs)_/m);
      expect(text).toMatch(/^http_request_duration_seconds_count\{/m);
      // Every metric family the service exposes is documented.
      const undocumented = [...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!).filter((family) => !metricsDoc.includes(`\`${family}\``));
      expect({ name, undocumented }).toEqual({ name, undocumented: [] });
      if (name === 'gateway-1') {
        const excerpt = text
          .split('\n')
          .filter((l) => /^framecast_gateway_(frame_latency_seconds_(bucket\{le="0\.(001|0025|005|01)"|count|sum)|frames_(received|delivered)_total|viewers |ready|bus_up|frames_skipped_total)|^process_resident_memory_bytes|^nodejs_eventloop_lag_p99_seconds|^http_request_duration_seconds_count\{route="\/metrics"/.test(l));
        console.log(`\n/metrics excerpt (gateway-1, 2 viewers on room ${ROOM}):\n${excerpt.join('\n')}\n`);
      }
    }
  });

  it('loads exactly the alert rules from the rules file, all healthy', async () => {
    const body = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ name: string; file: string; rules: Array<{ name: string; type: string; health: string; lastError?: string }> }> };
    };
    const loaded = body.data.groups.flatMap((g) => g.rules.map((r) => ({ file: g.file.split('/').pop(), name: r.name, type: r.type })));
    expect(loaded).toEqual(alertRules().map((r) => ({ file: 'framecast.rules.yml', name: r.alert, type: 'alerting' })));
    await waitFor('every rule evaluated without error', async () => {
      const b = (await (await fetch(`${prometheusUrl}/api/v1/rules`)).json()) as typeof body;
      const rules = b.data.groups.flatMap((g) => g.rules);
      const bad = rules.filter((r) => r.health !== 'ok');
      if (bad.some((r) => r.health === 'err')) throw new Error(`rule errors: ${JSON.stringify(bad)}`);
      return bad.length === 0;
    }, 10_000, 200);
  });

  it('answers every dashboard query with at least one series, the latency histogram with real data', async () => {
    const deadline = Date.now() + SERIES_DEADLINE_MS;
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThanOrEqual(40);
    for (const q of queries) {
      const expr = substituteGrafanaVariables(q.expr);
      const series = await someSeries(expr, deadline).catch((err: Error) => {
        throw new Error(`panel "${q.panel}" ${q.refId}: ${err.message}`);
      });
      expect(series.length, `${q.panel}: ${expr}`).toBeGreaterThan(0);
    }
    // The headline panel with viewers watching: a finite, positive p99 from real frames.
    const p99Expr = substituteGrafanaVariables(dashboardQueries().find((q) => q.panel === 'Capture→delivery latency' && q.refId === 'C')!.expr);
    const p99 = await waitFor('p99 latency', async () => {
      const [s] = await query(p99Expr);
      return s && Number.isFinite(Number(s.value[1])) && Number(s.value[1]) > 0 ? s : null;
    }, Math.max(1000, deadline - Date.now()), 250);
    // rate() over a window Prometheus has only partly filled under-reads; print it once full.
    await someSeries('min(count_over_time(framecast_gateway_frames_delivered_total[10s])) >= 10', deadline);
    const delivered = await query(substituteGrafanaVariables('sum by (instance) (rate(framecast_gateway_frames_delivered_total{job=~"$job", instance=~"$instance"}[$__rate_interval]))'));
    expect(delivered).toHaveLength(2);
    for (const s of delivered) expect(Number(s.value[1])).toBeGreaterThan(0);
    // Presence: the registry counts the four viewers the gateways reported, and the camera.
    const present = await waitFor('registry viewers', async () => {
      const [v] = await query('max(framecast_registry_viewers)');
      return v && Number(v.value[1]) === viewers.length ? v : null;
    }, Math.max(1000, deadline - Date.now()), 250);
    const [cameras] = await someSeries('max(framecast_registry_cameras) > 0', deadline);
    console.log(
      `\ndashboard query "${p99Expr}"\n  -> p99 ${(Number(p99.value[1]) * 1000).toFixed(1)} ms` +
        `\nframes delivered/s by gateway: ${delivered.map((s) => `${s.metric.instance} ${Number(s.value[1]).toFixed(1)}`).join(', ')}` +
        `\nregistry: ${present.value[1]} viewers, ${cameras!.value[1]} camera(s)\n`,
    );
  });

  it("finds the dashboard's job and instance variables' values", async () => {
    const variables = dashboard().templating.list.filter((v) => v.type === 'query');
    expect(variables.map((v) => v.name)).toEqual(['job', 'instance']);
    const values = async (def: string) => {
      // Grafana's label_values(selector, label) is the series API with that matcher.
      const m = /^label_values\((.*),\s*(\w+)\)$/.exec(substituteGrafanaVariables(def))!;
      const res = await fetch(`${prometheusUrl}/api/v1/series?${new URLSearchParams({ 'match[]': m[1]!, start: String(Date.now() / 1000 - 60) })}`);
      const body = (await res.json()) as { status: string; data: Array<Record<string, string>> };
      expect(body.status).toBe('success');
      return [...new Set(body.data.map((s) => s[m[2]!]!))].sort();
    };
    const [job, instance] = variables.map((v) => (typeof v.query === 'string' ? v.query : v.query.query));
    expect(await values(job!)).toEqual(['capture-agent', 'gateway', 'registry']);
    expect(await values(instance!)).toHaveLength(4);
  });

  it('parses every alert expression, and every series an alert reads exists in the scrape', async () => {
    const deadline = Date.now() + SERIES_DEADLINE_MS;
    for (const rule of alertRules()) {
      // Parses and evaluates. Its result is empty while all is well; whether each alert fires and
      // stays quiet when it should is promtool's unit test (alerts.test.ts): a loaded 2-core CI
      // machine may legitimately lag its event loop here.
      await query(rule.expr);
      const selectors = vectorSelectors(rule.expr);
      expect(selectors.length, rule.alert).toBeGreaterThan(0);
      for (const sel of selectors) {
        await someSeries(sel, deadline).catch((err: Error) => {
          throw new Error(`${rule.alert} reads ${sel}, which no service exposes: ${err.message}`);
        });
      }
    }
  });
});
