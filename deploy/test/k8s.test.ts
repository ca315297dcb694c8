import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseEnvFile, find, isWorkload, kustomize, K8S_DIR, onPath, run, SECRETS_EXAMPLE, selects, type K8sObject, type Kustomization, type Workload } from './deploy-files.ts';
import { allSchemaProblems, schemaProblems } from './k8s-schema.ts';

// `kubectl kustomize` renders the base (what `kubectl apply -k deploy/k8s` applies), the example
// production overlay and the Prometheus Operator folder; every rendered object must pass the
// Kubernetes schema strictly (k8s-schema.ts: types, required fields, and no unknown fields). Then
// the objects issue 11 asks for, with the settings it asks for. How the manifests fit the services
// themselves (variables, ports, probe paths, grace periods) is cross-check.test.ts.

const rendered = {} as Record<Kustomization, K8sObject[]>;

beforeAll(async () => {
  if (!(await onPath('kubectl'))) {
    throw new Error('kubectl is not on PATH: this machine kind has kubectl v1.32 (kustomize v5.5); elsewhere install it, or Debian\'s kubernetes-client (.ci/run does), whose kustomize is older');
  }
  for (const which of ['base', 'production', 'managedRedis', 'managedRedisCluster', 'monitoring'] as const) {
    const r = await kustomize(which);
    if (r.code !== 0) throw new Error(`kubectl kustomize ${which} failed:\n${r.stderr}`);
    rendered[which] = r.objects;
  }
});

const workload = (objects: K8sObject[], name: string) => objects.find((o): o is Workload => isWorkload(o) && o.metadata.name === name)!;

describe('kubectl kustomize', () => {
  it('prints its version (kustomize v5 reads this base; the old one in Debian\'s kubernetes-client may not)', async () => {
    const { code, stdout } = await run('kubectl', ['version', '--client']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Kustomize Version: v5\./);
  });

  it.each(['base', 'production', 'managedRedis', 'managedRedisCluster', 'monitoring'] as const)('renders %s into objects that all pass the Kubernetes schema strictly', (which) => {
    expect(rendered[which].length).toBeGreaterThan(0);
    expect(allSchemaProblems(rendered[which])).toEqual({});
  });

  it('refuses to render the base before the operator wrote secrets.env', async () => {
    const r = await kustomize('base', { secrets: false });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/secrets\.env/);
  });
});

describe('the strict schema check', () => {
  const clone = <T>(o: T): T => structuredClone(o);

  it('fails on a field the schema does not know: readinessProbe.httpGt', () => {
    const gateway = clone(workload(rendered.base, 'gateway'));
    const probe = gateway.spec.template.spec.containers[0]!.readinessProbe as Record<string, unknown>;
    probe.httpGt = probe.httpGet;
    delete probe.httpGet;
    expect(schemaProblems(gateway)).toEqual(['spec.template.spec.containers[0].readinessProbe.httpGt: unknown field']);
  });

  it('fails on a wrong type, a missing required field and a typo in an operator object', () => {
    const gateway = clone(workload(rendered.base, 'gateway')) as unknown as { spec: Record<string, unknown> } & K8sObject;
    gateway.spec.replicas = '2';
    expect(schemaProblems(gateway).join('\n')).toMatch(/spec\/replicas must be integer/);

    const service = clone(find(rendered.base, 'Service', 'gateway')) as K8sObject & { spec: { ports: Array<Record<string, unknown>> } };
    delete service.spec.ports[0]!.port;
    expect(schemaProblems(service).join('\n')).toMatch(/spec\/ports\/0 must have required property '?port'?/);

    const monitor = clone(find(rendered.monitoring, 'ServiceMonitor', 'framecast-gateway')) as K8sObject & { spec: { endpoints: Array<Record<string, unknown>> } };
    monitor.spec.endpoints[0]!.intervall = monitor.spec.endpoints[0]!.interval;
    expect(schemaProblems(monitor)).toEqual(['spec.endpoints[0].intervall: unknown field']);
  });

  it('fails on a kind it has no schema for', () => {
    expect(schemaProblems({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' } })).toEqual(['no schema for example.com/v1 Widget']);
  });
});

describe('the base (kubectl apply -k deploy/k8s)', () => {
  const objects = () => rendered.base;

  it('holds the objects a deployment needs, all in namespace framecast', () => {
    expect(objects().map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '-<hash>')}`).sort()).toEqual(
      [
        'ConfigMap/redis-scripts-<hash>',
        'Deployment/gateway',
        'Deployment/registry',
        'HorizontalPodAutoscaler/gateway',
        'Ingress/framecast',
        'Namespace/framecast',
        'NetworkPolicy/redis',
        'PodDisruptionBudget/gateway',
        'PodDisruptionBudget/registry',
        'Secret/framecast-secrets-<hash>',
        'Service/gateway',
        'Service/redis',
        'Service/redis-headless',
        'Service/registry',
        'StatefulSet/redis',
      ].sort(),
    );
    for (const o of objects()) if (o.kind !== 'Namespace') expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('framecast');
    // The namespace enforces the restricted Pod Security Standard (every pod below fits it).
    expect(find(objects(), 'Namespace', 'framecast').metadata.labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
  });

  it('makes the Secret with a secretGenerator from secrets.env, with every key of the example, and every reference names it', () => {
    const secret = objects().find((o) => o.kind === 'Secret')! as K8sObject & { data: Record<string, string> };
    expect(secret.metadata.name).toMatch(/^framecast-secrets-[a-z0-9]{10}$/);
    expect(Object.keys(secret.data).sort()).toEqual([...parseEnvFile(readFileSync(SECRETS_EXAMPLE, 'utf8')).keys()].sort());
    expect(readFileSync(join(K8S_DIR, 'kustomization.yaml'), 'utf8')).toMatch(/secretGenerator:\n\s+- name: framecast-secrets\n\s+envs:\n\s+- secrets\.env/);
    const refs = objects()
      .filter(isWorkload)
      .flatMap((w) => w.spec.template.spec.containers.flatMap((c) => (c.env ?? []).flatMap((e) => (e.valueFrom?.secretKeyRef ? [e.valueFrom.secretKeyRef] : []))));
    expect(refs.length).toBeGreaterThanOrEqual(6);
    for (const ref of refs) {
      expect(ref.name).toBe(secret.metadata.name);
      expect(Object.keys(secret.data)).toContain(ref.key);
    }
  });

  it('runs Redis as one StatefulSet with a PersistentVolumeClaim for its AOF data', () => {
    const redis = workload(objects(), 'redis');
    expect(redis.kind).toBe('StatefulSet');
    expect(redis.spec.replicas).toBe(1);
    const [claim] = redis.spec.volumeClaimTemplates!;
    expect(claim!.metadata.name).toBe('data');
    expect(claim!.spec.resources.requests.storage).toMatch(/^\d+Gi$/);
    const container = redis.spec.template.spec.containers[0]!;
    expect(container.volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    // Started by the same script as under compose, from the ConfigMap kustomize makes of it: AOF on /data.
    expect(container.command).toEqual(['sh', '/opt/framecast/start-redis.sh']);
    const scripts = objects().find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('redis-scripts-')) as K8sObject & { data: Record<string, string> };
    expect(scripts.data['start-redis.sh']).toMatch(/--appendonly yes/);
    expect(redis.spec.template.spec.volumes).toContainEqual({ name: 'scripts', configMap: { name: scripts.metadata.name } });
    expect(find(objects(), 'Service', 'redis-headless')).toMatchObject({ spec: { clusterIP: 'None' } });
  });

  it('runs the registry as a Deployment of 2 replicas and the gateway as a Deployment the HPA scales', () => {
    expect(workload(objects(), 'registry')).toMatchObject({ kind: 'Deployment', spec: { replicas: 2 } });
    const hpa = find(objects(), 'HorizontalPodAutoscaler', 'gateway') as K8sObject & { spec: { scaleTargetRef: unknown; minReplicas: number; maxReplicas: number } };
    expect(workload(objects(), 'gateway').kind).toBe('Deployment');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'gateway' });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
    expect(hpa.spec.maxReplicas).toBeGreaterThan(hpa.spec.minReplicas);
  });

  it.each(['gateway', 'registry'])('gives the %s probes, requests and limits, topology spread and a preStop', (name) => {
    const w = workload(objects(), name);
    const pod = w.spec.template.spec;
    const c = pod.containers[0]!;
    expect(c.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    for (const kind of ['requests', 'limits'] as const) expect(Object.keys(c.resources?.[kind] ?? {}).sort(), kind).toEqual(['cpu', 'memory']);
    expect(c.lifecycle?.preStop?.sleep?.seconds).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(0);
    expect(pod.topologySpreadConstraints?.length).toBeGreaterThan(0);
    for (const t of pod.topologySpreadConstraints!) expect(selects(t.labelSelector?.matchLabels, w.spec.template.metadata.labels), t.topologyKey).toBe(true);
    expect(pod.topologySpreadConstraints!.map((t) => t.topologyKey)).toContain('kubernetes.io/hostname');
  });

  it('runs every pod non-root on a read-only root filesystem, all capabilities dropped, seccomp RuntimeDefault', () => {
    const workloads = objects().filter(isWorkload);
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual(['gateway', 'redis', 'registry']);
    for (const w of workloads) {
      const pod = w.spec.template.spec;
      expect(pod.securityContext, w.metadata.name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(pod.securityContext?.runAsUser, w.metadata.name).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.securityContext, `${w.metadata.name}/${c.name}`).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        // The one writable place besides Redis' data volume.
        expect(c.volumeMounts, `${w.metadata.name}/${c.name}`).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
      }
    }
  });

  it('keeps at most one gateway down at a time in voluntary disruptions (PodDisruptionBudget)', () => {
    const pdb = find(objects(), 'PodDisruptionBudget', 'gateway') as K8sObject & { spec: { maxUnavailable?: number; minAvailable?: number; selector: { matchLabels: Record<string, string> } } };
    expect(pdb.spec.maxUnavailable).toBe(1);
    expect(selects(pdb.spec.selector.matchLabels, workload(objects(), 'gateway').spec.template.metadata.labels)).toBe(true);
  });

  it('routes /api to the registry and everything else to the gateways, with websocket-friendly timeouts (Ingress)', () => {
    const ingress = find(objects(), 'Ingress', 'framecast') as K8sObject & {
      spec: { rules: Array<{ http: { paths: Array<{ path: string; pathType: string; backend: { service: { name: string; port: { name: string } } } }> } }> };
    };
    const paths = ingress.spec.rules[0]!.http.paths.map((p) => [p.path, p.pathType, p.backend.service.name, p.backend.service.port.name]);
    expect(paths).toEqual([
      ['/api', 'Prefix', 'registry', 'http'],
      ['/', 'Prefix', 'gateway', 'http'],
    ]);
    const annotations = ingress.metadata.annotations ?? {};
    for (const a of ['proxy-read-timeout', 'proxy-send-timeout']) expect(Number(annotations[`nginx.ingress.kubernetes.io/${a}`]), a).toBeGreaterThanOrEqual(3600);
  });

  it('lets only framecast pods reach Redis (NetworkPolicy)', () => {
    const policy = find(objects(), 'NetworkPolicy', 'redis') as K8sObject & {
      spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: Array<{ from: Array<Record<string, { matchLabels?: Record<string, string> }>>; ports: unknown[] }> };
    };
    expect(selects(policy.spec.podSelector.matchLabels, workload(objects(), 'redis').spec.template.metadata.labels)).toBe(true);
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toHaveLength(1);
    const [rule] = policy.spec.ingress;
    expect(rule!.ports).toEqual([{ protocol: 'TCP', port: 6379 }]);
    // Pods only (no ipBlock, no other namespace), and the selector matches exactly framecast's own pods.
    expect(rule!.from.map((f) => Object.keys(f))).toEqual([['podSelector']]);
    const from = rule!.from[0]!.podSelector!.matchLabels;
    for (const name of ['gateway', 'registry']) expect(selects(from, workload(objects(), name).spec.template.metadata.labels), name).toBe(true);
    expect(selects(from, { 'app.kubernetes.io/name': 'something-else' })).toBe(false);
  });
});

describe('the production overlay (deploy/k8s-overlays/production)', () => {
  it('raises replicas, the HPA range and resources, sets the image registry and the host with TLS', () => {
    const prod = rendered.production;
    const gateway = workload(prod, 'gateway');
    expect(gateway.spec.replicas).toBe(4);
    expect(workload(prod, 'registry').spec.replicas).toBe(3);
    expect(find(prod, 'HorizontalPodAutoscaler', 'gateway')).toMatchObject({ spec: { minReplicas: 4, maxReplicas: 40 } });
    expect(gateway.spec.template.spec.containers[0]!.resources).toEqual({ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '4', memory: '4Gi' } });
    expect(gateway.spec.template.spec.containers[0]!.image).toBe('registry.example.com/framecast/gateway:0.1.0');
    // The patch merged into the container: the base's probes and secrets are still there.
    expect(gateway.spec.template.spec.containers[0]!.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(gateway.spec.template.spec.containers[0]!.env?.map((e) => e.name)).toEqual(expect.arrayContaining(['REDIS_URL', 'FRAMECAST_TOKEN_SECRET', 'FRAMECAST_ALLOWED_ORIGINS']));
    expect(find(prod, 'Ingress', 'framecast')).toMatchObject({ spec: { tls: [{ hosts: ['cams.example.com'], secretName: 'framecast-tls' }] } });
    // The camera network's way into Redis: a LoadBalancer Service and a NetworkPolicy for that range.
    expect(find(prod, 'Service', 'redis-cameras')).toMatchObject({ spec: { type: 'LoadBalancer' } });
    expect(find(prod, 'NetworkPolicy', 'redis-cameras')).toBeTruthy();
  });
});

describe('the managed Redis overlay (deploy/k8s-overlays/managed-redis)', () => {
  it('drops the in-cluster Redis and points both services at the managed one, the password still from the Secret', () => {
    const objects = rendered.managedRedis;
    expect(objects.filter((o) => /redis/.test(o.metadata.name)).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    for (const name of ['gateway', 'registry']) {
      const env = workload(objects, name).spec.template.spec.containers[0]!.env!;
      // REDIS_PASSWORD first: Kubernetes expands $(REDIS_PASSWORD) only from variables defined before.
      expect(env.slice(0, 2).map((e) => e.name), name).toEqual(['REDIS_PASSWORD', 'REDIS_URL']);
      expect(env[1]!.value, name).toBe('rediss://:$(REDIS_PASSWORD)@redis.example.internal:6380');
    }
  });
});

describe('the managed Redis Cluster overlay (deploy/k8s-overlays/managed-redis-cluster)', () => {
  it('adds the seed nodes beside REDIS_URL (password and TLS), which each service accepts as a cluster', () => {
    const objects = rendered.managedRedisCluster;
    expect(objects.filter((o) => /redis/.test(o.metadata.name)).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
    for (const name of ['gateway', 'registry']) {
      const env = workload(objects, name).spec.template.spec.containers[0]!.env!;
      expect(env.slice(0, 3).map((e) => e.name), name).toEqual(['REDIS_PASSWORD', 'REDIS_URL', 'REDIS_CLUSTER_NODES']);
      expect(env[1]!.value, name).toMatch(/^rediss:\/\/:\$\(REDIS_PASSWORD\)@/);
      expect(env[2]!.value!.split(','), name).toHaveLength(3);
    }
  });
});
