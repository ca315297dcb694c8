import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createServer } from 'node:net';
import { waitFor } from './ports.ts';
import { ping, redisCliPing } from './redis.ts';

export interface ClusterNode {
  port: number;
  /** `127.0.0.1:<port>` as CLUSTER NODES and ioredis name it. */
  address: string;
  readonly running: boolean;
  /** SIGKILL: the node is gone at once, as in a crashed host. */
  kill(): Promise<void>;
  /** SIGSTOP: its connections stay open and nothing answers (a hung or swapping host); SIGCONT to resume. */
  pause(): void;
  resume(): void;
}

export interface TestRedisCluster {
  nodes: ClusterNode[];
  /** Seed list for REDIS_CLUSTER_NODES: every node's `127.0.0.1:<port>`. */
  seeds: string;
  /** The primary serving `slot` right now, asked of any live node. */
  ownerOf(slot: number): Promise<ClusterNode>;
  /** The live primaries' nodes. */
  primaries(): Promise<ClusterNode[]>;
  /** A plain connection to one node (for CLUSTER and PUBSUB commands that must reach that node). */
  connect(node: ClusterNode): Redis;
  /** Until every live node agrees that all 16384 slots are served (`cluster_state:ok`). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Moves one slot and its keys from its owner to `to` (SETSLOT IMPORTING/MIGRATING, MIGRATE, SETSLOT NODE). */
  migrateSlot(slot: number, to: ClusterNode): Promise<void>;
  close(): Promise<void>;
}

export interface TestRedisClusterOptions {
  primaries?: number;
  replicasPerPrimary?: number;
  /** cluster-node-timeout: how long a silent primary takes to be failed over. Default 1000 ms. */
  nodeTimeoutMs?: number;
  /** Extra redis-server arguments for every node (TLS, ACL). */
  extraArgs?: (port: number) => string[];
  /** redis-cli arguments to reach a node (TLS, auth); default none. */
  cliArgs?: string[];
}

/**
 * A real Redis Cluster on loopback for one test file: N primaries and their replicas, each a
 * redis-server on a free port with its own working directory (nodes.conf), created with
 * `redis-cli --cluster create`. Stop nodes with SIGKILL to test failover.
 */
export async function startTestRedisCluster(opts: TestRedisClusterOptions = {}): Promise<TestRedisCluster> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('a Redis Cluster test needs redis-server and redis-cli (apt-get install -y redis-server)');
  }
  const primaries = opts.primaries ?? 3;
  const replicas = opts.replicasPerPrimary ?? 1;
  const nodeTimeout = opts.nodeTimeoutMs ?? 1000;
  const dir = mkdtempSync(join(tmpdir(), 'framecast-cluster-'));
  const procs = new Map<number, ChildProcess>();
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < primaries * (1 + replicas); i++) {
    const port = await freeClusterPort();
    const args = [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no',
      '--loglevel', 'warning', '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', String(nodeTimeout), '--dir', dir,
      // A replica that never finished its first sync cannot be promoted; without this a primary
      // waits 5 s for more replicas before it starts the transfer.
      '--repl-diskless-sync-delay', '0',
      ...(opts.extraArgs?.(port) ?? []),
    ];
    const p = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    procs.set(port, p);
    p.on('exit', () => procs.delete(port));
    nodes.push({
      port,
      address: `127.0.0.1:${port}`,
      get running() {
        return procs.has(port);
      },
      async kill() {
        const proc = procs.get(port);
        if (!proc) return;
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGKILL');
        await exited;
      },
      pause() {
        procs.get(port)?.kill('SIGSTOP');
      },
      resume() {
        procs.get(port)?.kill('SIGCONT');
      },
    });
  }
  const cli = opts.cliArgs ?? [];
  // Whatever fails from here on, no redis-server is left behind.
  const killAll = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const tls = cli.includes('--tls');
    if (!tls) await Promise.all(nodes.map((n) => waitFor(`cluster node ${n.port}`, () => ping(n.port), 10_000)));
    else await Promise.all(nodes.map((n) => waitFor(`cluster node ${n.port}`, () => redisCliPing(n.port, cli), 10_000)));
    const create = spawnSync(
      'redis-cli',
      [...cli, '--cluster', 'create', ...nodes.map((n) => n.address), '--cluster-replicas', String(replicas), '--cluster-yes'],
      { encoding: 'utf8', timeout: 30_000 },
    );
    if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}\n${create.stderr}`);

    const redisOpts = opts.cliArgs ? cliToRedisOptions(cli) : {};
    const connect = (node: ClusterNode) => new Redis({ port: node.port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null, ...redisOpts });
    const ask = async <T>(fn: (r: Redis) => Promise<T>, only?: ClusterNode[]): Promise<T> => {
      let last: unknown;
      for (const node of only ?? nodes) {
        if (!node.running) continue;
        const r = connect(node);
        r.on('error', () => {});
        try {
          return await fn(r);
        } catch (err) {
          last = err;
        } finally {
          r.disconnect();
        }
      }
      throw last ?? new Error('no cluster node is running');
    };
    const byPort = (port: number) => nodes.find((n) => n.port === port)!;
    const clusterNodes = () => ask((r) => r.call('CLUSTER', 'NODES') as Promise<string>);
    const cluster: TestRedisCluster = {
      nodes,
      seeds: nodes.map((n) => n.address).join(','),
      async ownerOf(slot) {
        const slots = (await ask((r) => r.call('CLUSTER', 'SLOTS'))) as Array<[number, number, [string, number, ...unknown[]], ...unknown[]]>;
        const range = slots.find(([lo, hi]) => slot >= lo && slot <= hi);
        if (!range) throw new Error(`no node serves slot ${slot}`);
        return byPort(Number(range[2][1]));
      },
      async primaries() {
        const text = await clusterNodes();
        return text
          .split('\n')
          .filter((l) => {
            const flags = (l.split(' ')[2] ?? '').split(',');
            return flags.includes('master') && !flags.includes('fail') && !flags.includes('fail?');
          })
          .map((l) => byPort(Number(/:(\d+)@/.exec(l)![1])))
          .filter((n) => n.running);
      },
      connect,
      async waitHealthy(timeoutMs = 20_000) {
        await waitFor(
          'cluster_state:ok on every live node, and every replica in sync with its primary',
          async () => {
            for (const node of nodes.filter((n) => n.running)) {
              const [info, repl] = await ask((r) => Promise.all([r.call('CLUSTER', 'INFO') as Promise<string>, r.info('replication')]), [node]).catch(() => ['', '']);
              if (!info.includes('cluster_state:ok')) return false;
              if (repl.includes('role:slave') && !repl.includes('master_link_status:up')) return false;
            }
            return true;
          },
          timeoutMs,
          100,
        );
      },
      async migrateSlot(slot, to) {
        const from = await cluster.ownerOf(slot);
        if (from.port === to.port) return;
        const id = (node: ClusterNode) => ask((r) => r.call('CLUSTER', 'MYID') as Promise<string>, [node]);
        const [fromId, toId] = await Promise.all([id(from), id(to)]);
        await ask((r) => r.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', fromId), [to]);
        await ask((r) => r.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', toId), [from]);
        for (;;) {
          const keys = (await ask((r) => r.call('CLUSTER', 'GETKEYSINSLOT', slot, 100), [from])) as string[];
          if (keys.length === 0) break;
          await ask((r) => r.call('MIGRATE', '127.0.0.1', to.port, '', 0, 5000, ...(redisOpts.password ? ['AUTH2', redisOpts.username ?? 'default', redisOpts.password] : []), 'KEYS', ...keys), [from]);
        }
        // The new owner first, then the old one, then everyone else: the order redis-cli uses.
        for (const node of [to, from, ...nodes.filter((n) => n !== to && n !== from && n.running)]) {
          await ask((r) => r.call('CLUSTER', 'SETSLOT', slot, 'NODE', toId), [node]).catch(() => {});
        }
      },
      close: killAll,
    };
    await cluster.waitHealthy();
    return cluster;
  } catch (err) {
    await killAll();
    throw err;
  }
}

/**
 * A free port for a cluster node: redis-server also binds port + 10000 for the cluster bus, so
 * both must be free and the port at most 55535 (an ephemeral port from the OS may be higher).
 */
async function freeClusterPort(): Promise<number> {
  const canBind = (port: number) =>
    new Promise<boolean>((resolve) => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if ((await canBind(port)) && (await canBind(port + 10_000))) return port;
  }
  throw new Error('no free port pair (port and port + 10000) for a cluster node');
}


/** The few redis-cli flags the cluster helper passes on (TLS files, user, password) as ioredis options. */
function cliToRedisOptions(cli: string[]): { username?: string; password?: string; tls?: { ca: Buffer; cert?: Buffer; key?: Buffer; servername?: string } } {
  // (--sni names the host the certificate is for, when it has no IP address in it.)
  const value = (flag: string) => {
    const i = cli.indexOf(flag);
    return i >= 0 ? cli[i + 1] : undefined;
  };
  const out: ReturnType<typeof cliToRedisOptions> = {};
  if (value('--user')) out.username = value('--user')!;
  if (value('-a')) out.password = value('-a')!;
  if (cli.includes('--tls')) {
    out.tls = { ca: readFileSync(value('--cacert')!) };
    if (value('--cert')) out.tls.cert = readFileSync(value('--cert')!);
    if (value('--key')) out.tls.key = readFileSync(value('--key')!);
    if (value('--sni')) out.tls.servername = value('--sni')!;
  }
  return out;
}
