import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { composeConfig, composePort, DOCKERFILE, ENV_EXAMPLE, filledExample, nginx, NGINX_CONF, onPath, parseEnvFile, REPO, withTempDir, type ComposeConfig } from './deploy-files.ts';

// docker-compose.yml checked without a container engine: Debian's docker-compose (1.29) parses,
// validates and interpolates it (`docker-compose config`) with an .env made from .env.example the
// way the file's header says, and nginx checks the proxy's configuration (`nginx -t`). Whether
// the variables it sets suit the services is cross-check.test.ts; the same stack run from
// processes, nginx in front, is compose-stack.test.ts.

let config: ComposeConfig;

beforeAll(async () => {
  for (const [cmd, pkg] of [['docker-compose', 'docker-compose'], ['nginx', 'nginx-light']]) {
    if (!(await onPath(cmd!))) throw new Error(`${cmd} is not on PATH: apt-get install -y ${pkg} (.ci/run does)`);
  }
  const r = await composeConfig(filledExample(ENV_EXAMPLE));
  if (!r.config) throw new Error(`docker-compose config failed (${r.code}):\n${r.stderr}`);
  config = r.config;
});

describe('docker-compose.yml', () => {
  it('passes docker-compose config with an .env made from .env.example', () => {
    expect(Object.keys(config.services).sort()).toEqual(['bootstrap', 'capture-agent', 'gateway', 'grafana', 'prometheus', 'proxy', 'redis', 'redis-acl', 'registry']);
  });

  it('refuses to start while a secret in .env is empty, naming it', async () => {
    const r = await composeConfig(readFileSync(ENV_EXAMPLE, 'utf8'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/set (REDIS_PASSWORD|FRAMECAST_TOKEN_SECRET|FRAMECAST_ADMIN_KEY|GRAFANA_ADMIN_PASSWORD) in \.env/);
    // Each secret on its own: leaving any one of them empty is refused.
    const filled = filledExample(ENV_EXAMPLE);
    for (const key of parseEnvFile(readFileSync(ENV_EXAMPLE, 'utf8')).keys()) {
      const one = await composeConfig(filled.replace(new RegExp(`^${key}=.*$`, 'm'), `${key}=`));
      expect(one.stderr, key).toContain(`set ${key} in .env`);
    }
  });

  it('puts the secrets where the services read them, from .env only', () => {
    const env = (service: string) => config.services[service]!.environment ?? {};
    const secrets = parseEnvFile(filledExample(ENV_EXAMPLE));
    expect(env('registry').REDIS_URL).toBe(`redis://:${secrets.get('REDIS_PASSWORD')}@redis:6379`);
    expect(env('gateway').REDIS_URL).toBe(env('registry').REDIS_URL);
    expect(env('registry').FRAMECAST_TOKEN_SECRET).toBe(secrets.get('FRAMECAST_TOKEN_SECRET'));
    expect(env('gateway').FRAMECAST_TOKEN_SECRET).toBe(secrets.get('FRAMECAST_TOKEN_SECRET'));
    expect(env('registry').FRAMECAST_ADMIN_KEY).toBe(secrets.get('FRAMECAST_ADMIN_KEY'));
    expect(env('bootstrap').FRAMECAST_ADMIN_KEY).toBe(secrets.get('FRAMECAST_ADMIN_KEY'));
    expect(env('redis').REDIS_PASSWORD).toBe(secrets.get('REDIS_PASSWORD'));
    expect(env('grafana').GF_SECURITY_ADMIN_PASSWORD).toBe(secrets.get('GRAFANA_ADMIN_PASSWORD'));
  });

  it('keeps Redis data on a volume with AOF, runs two gateways behind the proxy on port 8080', () => {
    const redis = config.services.redis!;
    expect(redis.entrypoint).toEqual(['sh', '/opt/framecast/start-redis.sh']);
    expect(readFileSync(join(REPO, 'deploy/k8s/redis/start-redis.sh'), 'utf8')).toMatch(/--appendonly yes/);
    expect(redis.volumes).toContain('redis-data:/data:rw');
    expect(Object.keys(config.volumes ?? {})).toContain('redis-data');
    expect(config.services.gateway!.deploy?.replicas).toBe(2);
    expect(config.services.proxy!.ports!.map(composePort)).toEqual([{ published: 8080, target: 8080 }]);
    // Prometheus and Grafana are for the host only; nothing else publishes a port.
    expect(config.services.prometheus!.ports!.map(composePort)).toEqual([{ hostIp: '127.0.0.1', published: 9090, target: 9090 }]);
    expect(config.services.grafana!.ports!.map(composePort)).toEqual([{ hostIp: '127.0.0.1', published: 3000, target: 3000 }]);
    expect(Object.entries(config.services).filter(([, s]) => s.ports).map(([n]) => n).sort()).toEqual(['grafana', 'prometheus', 'proxy']);
  });

  it('mounts only files that exist in the repository, and builds only targets the Dockerfile has', () => {
    const stages = [...readFileSync(DOCKERFILE, 'utf8').matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
    for (const [name, service] of Object.entries(config.services)) {
      for (const v of service.volumes ?? []) {
        const source = typeof v === 'string' ? v.split(':')[0]! : v.source;
        if (!isAbsolute(source)) continue; // a named volume
        expect(relative(REPO, source).startsWith('..'), `${name}: ${source} is inside the repository`).toBe(false);
        expect(existsSync(source), `${name} mounts ${source}`).toBe(true);
      }
      if (service.build) {
        expect(service.build.context, name).toBe(REPO.replace(/\/$/, ''));
        expect(stages, `${name} builds target ${service.build.target}`).toContain(service.build.target);
      }
    }
  });

  it('runs the framecast services read-only, as non-root, with every capability dropped', () => {
    for (const name of ['registry', 'gateway', 'capture-agent']) {
      const s = config.services[name]!;
      expect(s.read_only, name).toBe(true);
      expect(s.cap_drop, name).toEqual(['ALL']);
      expect(s.tmpfs, name).toEqual(['/tmp']);
    }
  });
});

describe('the proxy (deploy/proxy/nginx.conf)', () => {
  /**
   * The real file with only its addresses changed: the compose service names gateway and registry
   * (not resolvable here; nginx resolves upstream names when it loads the file) become 127.0.0.1,
   * and /tmp, where it keeps its pid and temporary files, becomes a directory of the test's.
   */
  const localCopy = (dir: string) => {
    const text = readFileSync(NGINX_CONF, 'utf8');
    const local = text.replace(/\bserver (gateway|registry):/g, 'server 127.0.0.1:').replaceAll('/tmp/', `${dir}/`);
    // Exactly the two upstream servers and the six /tmp paths: nothing else is changed.
    expect(text.match(/\bserver (gateway|registry):/g)).toHaveLength(2);
    expect(text.match(/\/tmp\//g)).toHaveLength(6);
    return local;
  };

  it('passes nginx -t', async () => {
    await withTempDir('nginx', async (dir) => {
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, localCopy(dir));
      const r = await nginx(['-t', '-q', '-e', 'stderr', '-p', `${dir}/`, '-c', conf], dir);
      expect(r.code, r.stderr).toBe(0);
      // -q leaves only warnings and errors. One warning depends on the machine, not the file: a
      // shell whose open-file limit is below worker_connections (containers' limit is far above).
      const other = r.stderr.split('\n').filter((l) => l && !/worker_connections exceed open file resource limit/.test(l));
      expect(other).toEqual([]);
    });
  });

  it('fails nginx -t when broken, so the check above means something', async () => {
    await withTempDir('nginx', async (dir) => {
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, localCopy(dir).replace('proxy_read_timeout 3600s;', 'proxy_read_timeout 3600s'));
      const r = await nginx(['-t', '-q', '-e', 'stderr', '-p', `${dir}/`, '-c', conf], dir);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/emerg/);
    });
  });

  it('sends /api to the registry, the rest to the gateways with websocket upgrades and an hour of idle time', () => {
    const text = readFileSync(NGINX_CONF, 'utf8');
    expect(text).toMatch(/location \^~ \/api\/ \{\s+proxy_pass http:\/\/framecast_registry;/);
    expect(text).toMatch(/location = \/api \{\s+proxy_pass http:\/\/framecast_registry;/);
    expect(text).toMatch(/location \/ \{\s+proxy_pass http:\/\/framecast_gateways;/);
    expect(text).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(text).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(text).toMatch(/proxy_read_timeout 3600s;/);
    expect(config.services.proxy!.volumes).toContain(`${NGINX_CONF}:/etc/nginx/nginx.conf:ro`);
  });
});
