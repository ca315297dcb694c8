import { execFile, spawn } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';

/**
 * The deployment files under test and the offline tools that read them (docker-compose, kubectl
 * kustomize), shared by compose.test.ts, k8s.test.ts, cross-check.test.ts and image-start.test.ts.
 * Nothing here writes into the repository: every tool runs on a temporary copy or with its input
 * in a temporary directory, removed before the call returns.
 */

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const COMPOSE_FILE = join(REPO, 'docker-compose.yml');
export const ENV_EXAMPLE = join(REPO, '.env.example');
export const DOCKERFILE = join(REPO, 'Dockerfile');
export const NGINX_CONF = join(REPO, 'deploy/proxy/nginx.conf');
export const ASSEMBLE_SCRIPT = join(REPO, 'deploy/docker/assemble.sh');
export const BOOTSTRAP_SCRIPT = join(REPO, 'deploy/compose/bootstrap.ts');
export const AGENT_ACL_SCRIPT = join(REPO, 'deploy/compose/apply-agent-acl.sh');
export const REDIS_START_SCRIPT = join(REPO, 'deploy/k8s/redis/start-redis.sh');
export const K8S_DIR = join(REPO, 'deploy/k8s');
export const K8S_OVERLAYS_DIR = join(REPO, 'deploy/k8s-overlays');
export const SECRETS_EXAMPLE = join(K8S_DIR, 'secrets.env.example');

/**
 * Stand-ins for the secrets an operator writes into .env and deploy/k8s/secrets.env: hex, as the
 * examples ask, and long enough for every service's minimum (token secret >= 32 bytes, admin key
 * >= 16 characters).
 */
export const DUMMY_SECRETS: Readonly<Record<string, string>> = {
  REDIS_PASSWORD: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
  FRAMECAST_TOKEN_SECRET: '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0',
  FRAMECAST_ADMIN_KEY: '5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e',
  GRAFANA_ADMIN_PASSWORD: 'abcdefabcdefabcdefabcdef',
};

/** KEY=value lines of an env file; comments and blank lines skipped, values taken as written. */
export function parseEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/**
 * An example env file (.env.example, secrets.env.example) as an operator fills it in: every empty
 * value set from DUMMY_SECRETS. A key the example leaves empty that has no stand-in is an error,
 * so a new required secret cannot slip past the tests with an empty value.
 */
export function filledExample(file: string): string {
  return readFileSync(file, 'utf8').replace(/^([A-Z_][A-Z0-9_]*)=$/gm, (_line, key: string) => {
    const value = DUMMY_SECRETS[key];
    if (value === undefined) throw new Error(`${file}: ${key} is empty and the tests have no stand-in value for it (add one to DUMMY_SECRETS)`);
    return `${key}=${value}`;
  });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit (the caller asserts on it). */
export function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: opts.cwd, env: opts.env, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code === 'string') return reject(new Error(`${cmd}: ${err.message}`));
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Whether `cmd` is on PATH. */
export async function onPath(cmd: string): Promise<boolean> {
  return (await run('sh', ['-c', `command -v ${cmd}`])).code === 0;
}

/** A temporary directory for `fn`, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `framecast-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- docker-compose ----

export interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  environment?: Record<string, string | null>;
  command?: string[] | string;
  entrypoint?: string[] | string;
  volumes?: Array<string | { type: string; source: string; target: string; read_only?: boolean }>;
  ports?: Array<string | { target: number; published: number | string; host_ip?: string }>;
  depends_on?: Record<string, { condition: string }> | string[];
  deploy?: { replicas?: number };
  healthcheck?: { test?: string[] | string; disable?: boolean };
  stop_grace_period?: string;
  read_only?: boolean;
  user?: string;
  [key: string]: unknown;
}

export interface ComposeConfig {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/**
 * `docker-compose config` (Debian's docker-compose 1.29: it parses, validates against the Compose
 * schema and interpolates ${...} without an engine) on the repository's docker-compose.yml, with
 * `envText` as its .env. The environment is cleared but for PATH and HOME, so nothing from the
 * caller's shell fills a variable the .env leaves out.
 */
export async function composeConfig(envText: string): Promise<RunResult & { config?: ComposeConfig }> {
  return withTempDir('compose', async (dir) => {
    const envFile = join(dir, '.env');
    writeFileSync(envFile, envText);
    const result = await run('docker-compose', ['--file', COMPOSE_FILE, '--env-file', envFile, '--no-ansi', 'config'], {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir },
    });
    return result.code === 0 ? { ...result, config: parse(result.stdout) as ComposeConfig } : result;
  });
}

/** A compose port in either syntax docker-compose prints (`127.0.0.1:9090:9090/tcp` or the long form). */
export function composePort(p: NonNullable<ComposeService['ports']>[number]): { hostIp?: string; published: number; target: number } {
  if (typeof p !== 'string') return { ...(p.host_ip ? { hostIp: p.host_ip } : {}), published: Number(p.published), target: p.target };
  const m = /^(?:(.+):)?(\d+):(\d+)(?:\/\w+)?$/.exec(p);
  if (!m) throw new Error(`unexpected port syntax: ${p}`);
  return { ...(m[1] ? { hostIp: m[1] } : {}), published: Number(m[2]), target: Number(m[3]) };
}

// ---- nginx ----

/**
 * Runs nginx with `args`, its stdout a file in `dir`: the proxy's access log goes to /dev/stdout,
 * which cannot be opened when stdout is a socket, as Node's child-process pipes are (ENXIO); in
 * the container it is a pipe.
 */
export function nginx(args: string[], dir: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const out = openSync(join(dir, 'nginx.stdout'), 'w');
    const p = spawn('nginx', args, { stdio: ['ignore', out, 'pipe'] });
    closeSync(out);
    let stderr = '';
    p.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout: readFileSync(join(dir, 'nginx.stdout'), 'utf8'), stderr }));
  });
}

// ---- Kubernetes ----

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** What `kubectl apply -k` would be given for each kustomization the repository ships. */
export const KUSTOMIZATIONS = {
  /** The base: `kubectl apply -k deploy/k8s`. */
  base: 'deploy/k8s',
  /** The example production overlay. */
  production: 'deploy/k8s-overlays/production',
  /** The example overlay for a managed Redis instead of the in-cluster one. */
  managedRedis: 'deploy/k8s-overlays/managed-redis',
  /** The example overlay for a managed Redis Cluster (sharded pub/sub). */
  managedRedisCluster: 'deploy/k8s-overlays/managed-redis-cluster',
  /** The optional Prometheus Operator objects. */
  monitoring: 'deploy/k8s/monitoring',
} as const;

export type Kustomization = keyof typeof KUSTOMIZATIONS;

/**
 * `kubectl kustomize` on a temporary copy of deploy/k8s and deploy/k8s-overlays in which
 * deploy/k8s/secrets.env is written the way docs/OPERATIONS.md tells an operator to (the example,
 * every value filled in), so the repository never holds a secrets.env. `secrets: false` leaves it
 * out, as a first apply before the operator wrote it would; 'as-in-the-example' copies the example
 * with its values empty.
 */
export async function kustomize(which: Kustomization, opts: { secrets?: boolean | 'as-in-the-example' } = {}): Promise<RunResult & { objects: K8sObject[] }> {
  return withTempDir('kustomize', async (dir) => {
    cpSync(K8S_DIR, join(dir, 'deploy/k8s'), { recursive: true });
    cpSync(K8S_OVERLAYS_DIR, join(dir, 'deploy/k8s-overlays'), { recursive: true });
    // A developer's own deploy/k8s/secrets.env must not stand in for the example.
    rmSync(join(dir, 'deploy/k8s/secrets.env'), { force: true });
    const secrets = opts.secrets ?? true;
    if (secrets === 'as-in-the-example') cpSync(SECRETS_EXAMPLE, join(dir, 'deploy/k8s/secrets.env'));
    else if (secrets) writeFileSync(join(dir, 'deploy/k8s/secrets.env'), filledExample(SECRETS_EXAMPLE));
    const result = await run('kubectl', ['kustomize', join(dir, KUSTOMIZATIONS[which])]);
    const objects = result.code === 0 ? parseAllDocuments(result.stdout).map((d) => d.toJS() as K8sObject) : [];
    return { ...result, objects };
  });
}

/** The one object of `kind` named `name` (throws naming what is there otherwise). */
export function find<T extends K8sObject = K8sObject>(objects: K8sObject[], kind: string, name: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind}/${name}, found ${found.length} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found[0] as T;
}

/** Whether a label selector's matchLabels all hold in `labels`. */
export function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

// The parts of workload manifests the tests read (the schema check covers the rest).

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}

export interface Probe {
  httpGet?: { path: string; port: string | number };
  exec?: { command: string[] };
  tcpSocket?: { port: string | number };
}

export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities?: { drop?: string[] };
    seccompProfile?: { type: string };
  };
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}

export interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  topologySpreadConstraints?: Array<{ topologyKey: string; labelSelector?: { matchLabels?: Record<string, string> } }>;
  volumes?: Array<{ name: string; configMap?: { name: string }; emptyDir?: unknown }>;
}

export interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
    volumeClaimTemplates?: Array<{ metadata: { name: string }; spec: { accessModes: string[]; resources: { requests: { storage: string } } } }>;
  };
}

export const isWorkload = (o: K8sObject): o is Workload => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind);

/**
 * A container's environment as Kubernetes hands it to the process: secretKeyRef from the rendered
 * Secret (base64-decoded), fieldRef metadata.name as a pod name, and `$(NAME)` expanded from the
 * variables defined before it (Kubernetes' rule; an undefined reference stays as written).
 */
export function containerEnv(container: Container, objects: K8sObject[], podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of container.env ?? []) {
    if (v.value !== undefined) {
      env[v.name] = v.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (ref, name: string) => env[name] ?? ref);
    } else if (v.valueFrom?.secretKeyRef) {
      const { name, key } = v.valueFrom.secretKeyRef;
      const secret = find<K8sObject & { data?: Record<string, string> }>(objects, 'Secret', name);
      const data = secret.data?.[key];
      if (data === undefined) throw new Error(`${container.name}: ${v.name} refers to key ${key}, which Secret ${name} does not have`);
      env[v.name] = Buffer.from(data, 'base64').toString('utf8');
    } else if (v.valueFrom?.fieldRef?.fieldPath === 'metadata.name') {
      env[v.name] = podName;
    } else {
      throw new Error(`${container.name}: ${v.name} has a source the tests do not model: ${JSON.stringify(v)}`);
    }
  }
  return env;
}

// ---- Dockerfile ----

export interface DockerStage {
  name: string;
  from: string;
  /** ENV of this stage and the stages it is built FROM. */
  env: Record<string, string>;
  expose: number[];
  /** The HEALTHCHECK command (exec form). */
  healthcheck?: string[];
  cmd?: string[];
  user?: string;
  stopSignal?: string;
  /** Every RUN line, continuation lines joined. */
  runs: string[];
}

/** The Dockerfile's stages by name: enough of its syntax for the instructions it uses. */
export function dockerStages(text = readFileSync(DOCKERFILE, 'utf8')): Map<string, DockerStage> {
  const stages = new Map<string, DockerStage>();
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  let stage: DockerStage | undefined;
  for (const line of lines) {
    const [, instruction = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    switch (instruction.toUpperCase()) {
      case 'FROM': {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest)!;
        const parent = stages.get(m[1]!);
        stage = { name: m[2] ?? m[1]!, from: m[1]!, env: { ...parent?.env }, expose: [...(parent?.expose ?? [])], runs: [], ...(parent?.user ? { user: parent.user } : {}), ...(parent?.stopSignal ? { stopSignal: parent.stopSignal } : {}) };
        stages.set(stage.name, stage);
        break;
      }
      case 'ENV':
        for (const m of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) stage!.env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
        break;
      case 'EXPOSE':
        stage!.expose.push(...rest.split(/\s+/).map(Number));
        break;
      case 'HEALTHCHECK':
        stage!.healthcheck = JSON.parse(/CMD\s+(\[.*\])$/.exec(rest)![1]!) as string[];
        break;
      case 'CMD':
        stage!.cmd = JSON.parse(rest) as string[];
        break;
      case 'USER':
        stage!.user = rest;
        break;
      case 'STOPSIGNAL':
        stage!.stopSignal = rest;
        break;
      case 'RUN':
        stage!.runs.push(rest.replace(/\s+/g, ' '));
        break;
    }
  }
  return stages;
}

/** The path and port a stage's HEALTHCHECK fetches: `fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz')`. */
export function healthcheckTarget(stage: DockerStage): { portVariable: string; defaultPort?: number; path: string } {
  const script = stage.healthcheck?.[2] ?? '';
  const m = /fetch\('http:\/\/127\.0\.0\.1:' \+ \(?process\.env\.(\w+)(?: \|\| (\d+)\))? \+ '(\/[^']*)'\)/.exec(script);
  if (!m) throw new Error(`${stage.name}: HEALTHCHECK not understood: ${script}`);
  return { portVariable: m[1]!, ...(m[2] ? { defaultPort: Number(m[2]) } : {}), path: m[3]! };
}
