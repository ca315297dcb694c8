import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { agentEnvSchema, loadAgentConfig } from '@framecast/capture-agent';
import { gatewayEnvSchema, loadGatewayConfig } from '@framecast/gateway';
import { loadRegistryConfig, registryEnvSchema } from '@framecast/registry';
import { freePort, startAgent, startService, startTestRedis, stopAllServices, TestViewer, waitFor, type ServiceProcess, type TestRedis } from '@framecast/testing';
import { agentEnvFile, BOOTSTRAP_ENV } from '../compose/bootstrap.ts';
import {
  AGENT_ACL_SCRIPT,
  composeConfig,
  containerEnv,
  dockerStages,
  ENV_EXAMPLE,
  filledExample,
  find,
  healthcheckTarget,
  isWorkload,
  kustomize,
  NGINX_CONF,
  parseEnvFile,
  REDIS_START_SCRIPT,
  REPO,
  run,
  selects,
  type ComposeConfig,
  type Container,
  type K8sObject,
  type Workload,
} from './deploy-files.ts';

// Holds the deployment files to the services they run: every variable docker-compose.yml, the
// Dockerfile and the Kubernetes manifests set is one the service's own config loader accepts (run
// for real, with the same environment); every probe path and port they name is served by the
// service (started for real, with that environment); Service, PDB, HPA, NetworkPolicy, Ingress and
// ServiceMonitor selectors and references find their targets; and each grace period outlasts the
// service's shutdown timeout plus its preStop pause, which the gateway's real drain (viewers closed
// with 1012, then exit) is measured against.

type Service = 'gateway' | 'registry' | 'capture-agent';

interface ServiceConfigShape {
  PORT?: number;
  FRAMECAST_METRICS_PORT?: number;
  FRAMECAST_SHUTDOWN_TIMEOUT_MS: number;
}

/** Each service's real loader (standalone, as its main.ts calls it) and the variables its schema reads. */
const LOADERS: Record<Service, { load: (env: Record<string, string>) => { config: ServiceConfigShape; unknown: string[] }; variables: string[] }> = {
  gateway: { load: (env) => loadGatewayConfig(env), variables: Object.keys(gatewayEnvSchema.entries) },
  registry: { load: (env) => loadRegistryConfig(env), variables: Object.keys(registryEnvSchema.entries) },
  'capture-agent': { load: (env) => loadAgentConfig(env), variables: Object.keys(agentEnvSchema.entries) },
};

/**
 * Variables a deployment file sets that no loader reads, each with the reason. Anything else a
 * service is given must be in its schema, FRAMECAST_* or not.
 */
const NOT_FOR_THE_LOADER: Record<string, string> = {
  NODE_ENV: "the images set it for Node's libraries; framecast reads nothing from it",
  NODE_COMPILE_CACHE: "the images set it for Node itself: where the compile cache filled at build time is (Dockerfile)",
  REDIS_PASSWORD: 'Kubernetes only: the secret, defined so that REDIS_URL can name it as $(REDIS_PASSWORD)',
};

/** What a pod name looks like (the manifests pass metadata.name as FRAMECAST_*_ID). */
const POD_NAME = { gateway: 'gateway-5d8f7c9b6d-x7k2p', registry: 'registry-6c4b9f8d7-q2w3e' } as const;

let compose: ComposeConfig;
let base: K8sObject[];
let production: K8sObject[];
let managedRedis: K8sObject[];
let managedRedisCluster: K8sObject[];
let monitoring: K8sObject[];
const stages = dockerStages();

beforeAll(async () => {
  const c = await composeConfig(filledExample(ENV_EXAMPLE));
  if (!c.config) throw new Error(`docker-compose config failed:\n${c.stderr}`);
  compose = c.config;
  for (const [which, set] of [
    ['base', (o: K8sObject[]) => (base = o)],
    ['production', (o: K8sObject[]) => (production = o)],
    ['managedRedis', (o: K8sObject[]) => (managedRedis = o)],
    ['managedRedisCluster', (o: K8sObject[]) => (managedRedisCluster = o)],
    ['monitoring', (o: K8sObject[]) => (monitoring = o)],
  ] as const) {
    const r = await kustomize(which);
    if (r.code !== 0) throw new Error(`kubectl kustomize ${which} failed:\n${r.stderr}`);
    set(r.objects);
  }
});

const workload = (objects: K8sObject[], name: string) => objects.find((o): o is Workload => isWorkload(o) && o.metadata.name === name)!;

/** Compose's environment for a service, with its image's ENV under it (as Docker merges them). */
function composeEnv(service: Service, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...stages.get(service)!.env };
  for (const [k, v] of Object.entries(compose.services[service]!.environment ?? {})) if (v !== null) env[k] = v;
  return { ...env, ...extra };
}

/** The agent's environment under compose: the file's, then agent.env as bootstrap.ts writes it (the command sources it). */
function composeAgentEnv(): Record<string, string> {
  const key = `fca_${'k'.repeat(43)}`;
  return composeEnv('capture-agent', Object.fromEntries(parseEnvFile(agentEnvFile('0123456789abcdef', key, BOOTSTRAP_ENV.FRAMECAST_AGENT_REDIS_ADDRESS))));
}

/** A Kubernetes container's environment, with its image's ENV under it. */
function k8sEnv(objects: K8sObject[], service: 'gateway' | 'registry'): Record<string, string> {
  const container = workload(objects, service).spec.template.spec.containers[0]!;
  return { ...stages.get(service)!.env, ...containerEnv(container, objects, POD_NAME[service]) };
}

/** Loads `env` with the service's real loader and checks every variable in it is one the service reads. */
function expectAccepted(service: Service, env: Record<string, string>, where: string) {
  const { load, variables } = LOADERS[service];
  const loaded = load(env);
  expect(loaded.unknown, `${where}: FRAMECAST_* variables ${service} does not know`).toEqual([]);
  const unread = Object.keys(env).filter((k) => !variables.includes(k) && !(k in NOT_FOR_THE_LOADER));
  expect(unread, `${where}: variables ${service}'s schema does not read`).toEqual([]);
  return loaded.config;
}

describe('every variable the deployment files set is one the service accepts', () => {
  it('docker-compose.yml (with the image ENV and the .env made from .env.example)', () => {
    expectAccepted('registry', composeEnv('registry'), 'compose registry');
    expectAccepted('gateway', composeEnv('gateway'), 'compose gateway');
    expectAccepted('capture-agent', composeAgentEnv(), 'compose capture-agent');
  });

  it('the Kubernetes base and the overlays (secrets from the generated Secret, $(VAR) expanded)', () => {
    const redisHost = { base: 'redis:6379', production: 'redis:6379', managedRedis: 'redis.example.internal:6380', managedRedisCluster: 'redis-cluster-0.example.internal:6380' };
    for (const [name, objects] of [['base', base], ['production', production], ['managedRedis', managedRedis], ['managedRedisCluster', managedRedisCluster]] as const) {
      for (const service of ['gateway', 'registry'] as const) {
        const env = k8sEnv(objects, service);
        const config = expectAccepted(service, env, `${name} ${service}`) as { REDIS_CLUSTER_NODES?: unknown[] };
        // Only the cluster overlay names seed nodes, and the loader parses all three.
        expect(config.REDIS_CLUSTER_NODES?.length, `${name} ${service}`).toBe(name === 'managedRedisCluster' ? 3 : undefined);
        // $(REDIS_PASSWORD) was expanded: REDIS_URL carries the secret, nothing is left unexpanded.
        expect(env.REDIS_URL, `${name} ${service}`).toMatch(new RegExp(`^rediss?://:${env.REDIS_PASSWORD}@${redisHost[name].replaceAll('.', '\\.')}$`));
        for (const [k, v] of Object.entries(env)) expect(v, `${name} ${service} ${k}`).not.toMatch(/\$\(/);
      }
    }
  });

  it('the one-shots and Redis read exactly what compose gives them', () => {
    // bootstrap.ts says what it reads in BOOTSTRAP_ENV.
    const bootstrapEnv = Object.keys(compose.services.bootstrap!.environment ?? {});
    expect(bootstrapEnv.filter((k) => !(k in BOOTSTRAP_ENV))).toEqual([]);
    // The shell scripts: every variable compose sets is one the script reads.
    const scripts: Array<[string, string]> = [
      ['redis', REDIS_START_SCRIPT],
      ['redis-acl', AGENT_ACL_SCRIPT],
    ];
    for (const [service, file] of scripts) {
      const text = readFileSync(file, 'utf8');
      for (const k of Object.keys(compose.services[service]!.environment ?? {})) expect(text, `${service} reads ${k}`).toMatch(new RegExp(`\\$\\{?${k}\\b`));
    }
    // The Redis pod gets REDIS_PASSWORD from the Secret, as the script requires.
    expect(workload(base, 'redis').spec.template.spec.containers[0]!.env?.map((e) => e.name)).toEqual(['REDIS_PASSWORD']);
  });

  it('with secrets.env copied but not filled in, Redis and the services refuse to start, naming the secret', async () => {
    const r = await kustomize('base', { secrets: 'as-in-the-example' });
    expect(r.code, r.stderr).toBe(0);
    expect(() => LOADERS.gateway.load(k8sEnv(r.objects, 'gateway'))).toThrow(/^FRAMECAST_TOKEN_SECRET: is required/);
    expect(() => LOADERS.registry.load(k8sEnv(r.objects, 'registry'))).toThrow(/^FRAMECAST_(TOKEN_SECRET|ADMIN_KEY): is required/);
    const redisEnv = containerEnv(workload(r.objects, 'redis').spec.template.spec.containers[0]!, r.objects, 'redis-0');
    const redis = await run('sh', [REDIS_START_SCRIPT, '--port', '0'], { env: { PATH: process.env.PATH, ...redisEnv, REDIS_DATA_DIR: '/nonexistent' } });
    expect(redis.code).not.toBe(0);
    expect(redis.stderr).toMatch(/REDIS_PASSWORD must be set/);
  });

  it('refuses a misspelt or renamed variable the same way, so the checks above mean something', () => {
    expect(() => expectAccepted('gateway', { ...composeEnv('gateway'), FRAMECAST_MAX_VIEWER: '10' }, 'typo')).toThrow(/FRAMECAST_MAX_VIEWER/);
    expect(() => expectAccepted('gateway', { ...composeEnv('gateway'), REDIS_URI: 'redis://x' }, 'typo')).toThrow(/REDIS_URI/);
    expect(() => LOADERS.gateway.load({ ...composeEnv('gateway'), FRAMECAST_STALL_TIMEOUT_MS: '5000' })).toThrow(/FRAMECAST_STALL_TIMEOUT_MS/);
  });
});

describe('selectors and references find their targets', () => {
  it.each(['base', 'production', 'managedRedis'] as const)('%s: each Service selects one workload and names its ports', (which) => {
    const objects = { base, production, managedRedis }[which];
    const workloads = objects.filter(isWorkload);
    for (const w of workloads) expect(selects(w.spec.selector.matchLabels, w.spec.template.metadata.labels), `${w.metadata.name} selects its own pods`).toBe(true);
    const services = objects.filter((o) => o.kind === 'Service') as Array<K8sObject & { spec: { selector: Record<string, string>; ports: Array<{ port: number; targetPort: string | number }> } }>;
    for (const s of services) {
      const targets = workloads.filter((w) => selects(s.spec.selector, w.spec.template.metadata.labels));
      expect(targets.map((w) => w.metadata.name), `Service ${s.metadata.name}`).toHaveLength(1);
      const ports = targets[0]!.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
      for (const p of s.spec.ports) expect(ports.some((cp) => cp.name === p.targetPort || cp.containerPort === p.targetPort), `Service ${s.metadata.name} port ${p.port} -> ${p.targetPort}`).toBe(true);
    }
    for (const pdb of objects.filter((o) => o.kind === 'PodDisruptionBudget') as Array<K8sObject & { spec: { selector: { matchLabels: Record<string, string> } } }>) {
      expect(workloads.filter((w) => selects(pdb.spec.selector.matchLabels, w.spec.template.metadata.labels)).map((w) => w.metadata.name)).toEqual([pdb.metadata.name]);
    }
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'gateway') as K8sObject & { spec: { scaleTargetRef: { kind: string; name: string } } };
    expect(find(objects, hpa.spec.scaleTargetRef.kind, hpa.spec.scaleTargetRef.name)).toBeTruthy();
    for (const np of objects.filter((o) => o.kind === 'NetworkPolicy') as Array<K8sObject & { spec: { podSelector: { matchLabels: Record<string, string> } } }>) {
      expect(workloads.filter((w) => selects(np.spec.podSelector.matchLabels, w.spec.template.metadata.labels)).map((w) => w.metadata.name), np.metadata.name).toEqual(['redis']);
    }
    const ingress = find(objects, 'Ingress', 'framecast') as K8sObject & { spec: { rules: Array<{ http: { paths: Array<{ backend: { service: { name: string; port: { name: string } } } }> } }> } };
    for (const p of ingress.spec.rules.flatMap((r) => r.http.paths)) {
      const svc = find(objects, 'Service', p.backend.service.name) as K8sObject & { spec: { ports: Array<{ name?: string }> } };
      expect(svc.spec.ports.map((sp) => sp.name)).toContain(p.backend.service.port.name);
    }
  });

  it("the ServiceMonitors select the base's Services by their rendered labels, on ports they have", () => {
    const services = base.filter((o) => o.kind === 'Service') as Array<K8sObject & { spec: { ports: Array<{ name?: string }> } }>;
    for (const m of monitoring.filter((o) => o.kind === 'ServiceMonitor') as Array<K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string }> } }>) {
      const matched = services.filter((s) => selects(m.spec.selector.matchLabels, s.metadata.labels));
      expect(matched.map((s) => s.metadata.name), m.metadata.name).toEqual([m.metadata.name.replace(/^framecast-/, '')]);
      for (const e of m.spec.endpoints) expect(matched[0]!.spec.ports.map((p) => p.name)).toContain(e.port);
    }
  });
});

describe('grace periods outlast the shutdown', () => {
  const seconds = (text: string) => {
    const m = /^(\d+)s$/.exec(text);
    if (!m) throw new Error(`not a duration in seconds: ${text}`);
    return Number(m[1]);
  };

  it.each(['base', 'production', 'managedRedis'] as const)('%s: terminationGracePeriodSeconds > preStop + FRAMECAST_SHUTDOWN_TIMEOUT_MS', (which) => {
    const objects = { base, production, managedRedis }[which];
    for (const service of ['gateway', 'registry'] as const) {
      const pod = workload(objects, service).spec.template.spec;
      const config = LOADERS[service].load(k8sEnv(objects, service)).config;
      const preStopS = pod.containers[0]!.lifecycle?.preStop?.sleep?.seconds ?? 0;
      expect(preStopS, `${service} preStop`).toBeGreaterThan(0);
      expect(pod.terminationGracePeriodSeconds! * 1000, service).toBeGreaterThan(preStopS * 1000 + config.FRAMECAST_SHUTDOWN_TIMEOUT_MS);
    }
  });

  it("docker-compose: stop_grace_period > each service's FRAMECAST_SHUTDOWN_TIMEOUT_MS", () => {
    for (const [service, env] of [['gateway', composeEnv('gateway')], ['registry', composeEnv('registry')], ['capture-agent', composeAgentEnv()]] as const) {
      const grace = compose.services[service]!.stop_grace_period;
      expect(grace, service).toBeDefined();
      expect(seconds(grace!) * 1000, service).toBeGreaterThan(LOADERS[service].load(env).config.FRAMECAST_SHUTDOWN_TIMEOUT_MS);
    }
  });

  it("the camera box's systemd unit: TimeoutStopSec > the agent's FRAMECAST_SHUTDOWN_TIMEOUT_MS", () => {
    const unit = readFileSync(join(REPO, 'services/capture-agent/framecast-agent.service'), 'utf8');
    const timeoutS = Number(/^TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]);
    const env = Object.fromEntries(parseEnvFile(readFileSync(join(REPO, 'services/capture-agent/agent.env.example'), 'utf8')));
    expect(timeoutS * 1000).toBeGreaterThan(LOADERS['capture-agent'].load(env).config.FRAMECAST_SHUTDOWN_TIMEOUT_MS);
  });
});

describe('every probe path and port exists on the running service', () => {
  let redis: TestRedis;
  const running: Partial<Record<'gateway' | 'registry', ServiceProcess & { port: number; env: Record<string, string> }>> = {};
  let agent: ServiceProcess & { port: number };

  /** Starts a service with its Kubernetes environment; only Redis' address and the listening address are the test's. */
  async function startFromManifest(service: 'gateway' | 'registry') {
    const port = await freePort();
    const env = { ...k8sEnv(base, service), REDIS_URL: redis.url, HOST: '127.0.0.1', PORT: String(port) };
    const svc = await startService(service, { entry: `services/${service}/src/main.ts`, env, readyLine: new RegExp(`${service} listening`) });
    running[service] = Object.assign(svc, { port, env });
  }

  beforeAll(async () => {
    redis = await startTestRedis();
    await Promise.all([startFromManifest('registry'), startFromManifest('gateway')]);
    // The compose agent: its environment, with a key from this registry and this test's Redis.
    const registry = running.registry!;
    const api = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${registry.port}/api${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${registry.env.FRAMECAST_ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // What compose's bootstrap does: room demo public (so a viewer needs no token), a key for it.
    expect((await api('/rooms', { name: 'demo', visibility: 'public' })).status).toBe(201);
    const res = await api('/agent-keys', { name: 'cross-check', rooms: ['demo'] });
    expect(res.status).toBe(201);
    const { key } = (await res.json()) as { key: string };
    const port = await freePort();
    const env = { ...composeAgentEnv(), REDIS_URL: redis.url, FRAMECAST_AGENT_KEY: key, FRAMECAST_REGISTRY_URL: `http://127.0.0.1:${registry.port}`, FRAMECAST_METRICS_PORT: String(port), FRAMECAST_METRICS_HOST: '127.0.0.1' };
    agent = Object.assign(await startAgent(env), { port });
  }, 60_000);

  afterAll(async () => {
    await stopAllServices();
    await redis?.close();
  });

  const get = (port: number, path: string) => fetch(`http://127.0.0.1:${port}${path}`).then(async (r) => ({ status: r.status, type: r.headers.get('content-type') ?? '', body: await r.text() }));

  it.each(['gateway', 'registry'] as const)("%s: the manifest's probes answer 200 on the containerPort, which is the service's own port", async (service) => {
    const svc = running[service]!;
    const container: Container = workload(base, service).spec.template.spec.containers[0]!;
    // No PORT in the manifest: the service listens on its default, which must be the containerPort.
    const { config } = LOADERS[service].load(k8sEnv(base, service));
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      const { path, port } = probe!.httpGet!;
      expect(container.ports!.find((p) => p.name === port)?.containerPort, `${service} port ${port}`).toBe(config.PORT);
      await waitFor(`${service} ${path} 200`, async () => (await get(svc.port, path)).status === 200, 10_000, 100);
    }
    // The Dockerfile's EXPOSE and HEALTHCHECK say the same port and a path the service answers.
    const stage = stages.get(service)!;
    const hc = healthcheckTarget(stage);
    expect(stage.expose).toEqual([config.PORT]);
    expect(hc).toEqual({ portVariable: 'PORT', defaultPort: config.PORT, path: '/healthz' });
    expect((await get(svc.port, hc.path)).status).toBe(200);
  });

  it.each(['gateway', 'registry'] as const)('%s: /metrics, which the ServiceMonitor and Prometheus scrape, is Prometheus text', async (service) => {
    const monitor = find(monitoring, 'ServiceMonitor', `framecast-${service}`) as K8sObject & { spec: { endpoints: Array<{ path: string }> } };
    const m = await get(running[service]!.port, monitor.spec.endpoints[0]!.path);
    expect(m.status).toBe(200);
    expect(m.type).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(m.body).toMatch(/^# HELP process_resident_memory_bytes /m);
  });

  it("capture agent: the image's HEALTHCHECK and Prometheus' target answer on FRAMECAST_METRICS_PORT", async () => {
    const stage = stages.get('capture-agent')!;
    const hc = healthcheckTarget(stage);
    expect(hc).toEqual({ portVariable: 'FRAMECAST_METRICS_PORT', path: '/healthz' });
    const composePort = Number(composeAgentEnv().FRAMECAST_METRICS_PORT);
    expect(stage.expose).toEqual([composePort]);
    await waitFor('agent /healthz 200', async () => (await get(agent.port, hc.path)).status === 200, 15_000, 100);
    expect((await get(agent.port, '/metrics')).body).toMatch(/^framecast_agent_/m);
  });

  it("compose's addresses use those ports: Prometheus' targets, the proxy's upstreams, the registry URL", () => {
    const port = (service: Service) => {
      const env = service === 'capture-agent' ? composeAgentEnv() : composeEnv(service);
      const c = LOADERS[service].load(env).config;
      return service === 'capture-agent' ? c.FRAMECAST_METRICS_PORT : c.PORT;
    };
    const prom = parse(readFileSync(join(REPO, 'deploy/observability/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: Array<{ job_name: string; dns_sd_configs?: Array<{ names: string[]; port: number }>; static_configs?: Array<{ targets: string[] }> }>;
    };
    const job = (name: string) => prom.scrape_configs.find((j) => j.job_name === name)!;
    expect(job('gateway').dns_sd_configs).toEqual([expect.objectContaining({ names: ['gateway'], port: port('gateway') })]);
    expect(job('registry').dns_sd_configs).toEqual([expect.objectContaining({ names: ['registry'], port: port('registry') })]);
    expect(job('capture-agent').static_configs).toEqual([{ targets: [`capture-agent:${port('capture-agent')}`] }]);
    const nginx = readFileSync(NGINX_CONF, 'utf8');
    expect(nginx).toContain(`server gateway:${port('gateway')} `);
    expect(nginx).toContain(`server registry:${port('registry')} `);
    expect(nginx).toMatch(/listen 8080;/);
    const registryUrl = `http://registry:${port('registry')}`;
    expect(compose.services.bootstrap!.environment?.FRAMECAST_REGISTRY_URL).toBe(registryUrl);
    expect(compose.services['capture-agent']!.environment?.FRAMECAST_REGISTRY_URL).toBe(registryUrl);
    expect(BOOTSTRAP_ENV.FRAMECAST_REGISTRY_URL).toBe(registryUrl);
  });

  it("the gateway's drain fits the pod's grace period: SIGTERM closes viewers with 1012 and exits 0 in time", async () => {
    const gw = running.gateway!;
    const pod = workload(base, 'gateway').spec.template.spec;
    const budgetMs = (pod.terminationGracePeriodSeconds! - pod.containers[0]!.lifecycle!.preStop!.sleep!.seconds) * 1000;
    // A viewer watching the agent's frames: admitted (the room is public) and streaming.
    const viewer = await waitFor(
      'a viewer receiving frames',
      async () => {
        const v = new TestViewer(`ws://127.0.0.1:${gw.port}/ws/video/demo`, { hash: false });
        await v.opened;
        const ok = await Promise.race([waitFor('a frame', () => v.frames.length > 0, 3_000, 20).then(() => true, () => false), v.closed.then(() => false)]);
        if (!ok) v.terminate();
        return ok ? v : null;
      },
      15_000,
      100,
    );
    const started = Date.now();
    const exited = gw.stop('SIGTERM', budgetMs);
    expect(await viewer.closed).toBe(1012);
    expect(await exited).toBe(0);
    const tookMs = Date.now() - started;
    expect(tookMs).toBeLessThan(Number(gw.env.FRAMECAST_SHUTDOWN_TIMEOUT_MS));
    expect(tookMs).toBeLessThan(budgetMs);
  });
});
