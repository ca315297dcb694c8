import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  makeTestCertificates,
  redisCliPing,
  redisTlsArgs,
  startAgent,
  startTestRedisCluster,
  stopAllServices,
  TestViewer,
  waitFor,
  type TestCertificates,
  type TestRedisCluster,
} from '@framecast/testing';
import { startRegistry } from '../../registry/test/helpers.ts';
import { startGateway } from './helpers.ts';

/**
 * Issue 14: every service over TLS (`rediss://`) to a redis-server that serves TLS only, with a
 * certificate the test makes with openssl; the services trust its CA through NODE_EXTRA_CA_CERTS,
 * as docs/OPERATIONS.md says to. One Redis, then a Redis Cluster (TLS on the cluster bus too).
 */
let certs: TestCertificates;
let single: ChildProcess | null = null;
let singlePort = 0;
let cluster: TestRedisCluster | null = null;

const trust = () => ({ NODE_EXTRA_CA_CERTS: certs.ca });


beforeAll(async () => {
  certs = makeTestCertificates();
  singlePort = await freePort();
  single = spawn('redis-server', ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', ...redisTlsArgs(certs, singlePort)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor('TLS redis-server', () => redisCliPing(singlePort, ['--tls', '--cacert', certs.ca]), 10_000);
});

afterAll(async () => {
  await stopAllServices();
  single?.kill('SIGKILL');
  await cluster?.close();
  rmSync(certs.dir, { recursive: true, force: true });
});

/** Registry, gateway and agent on `redis`; a viewer on the gateway gets the agent's frames; the registry answers. */
async function streamThrough(redis: Record<string, string>, room: string, ca = trust()): Promise<void> {
  const registry = await startRegistry('', { ...redis, ...ca });
  const gateway = await startGateway('', { ...redis, ...ca });
  const agent = await startAgent({ ...redis, ...ca, FRAMECAST_ROOM: room, FRAMECAST_SOURCE: 'testsrc', FRAMECAST_FPS: '10', FRAMECAST_SIZE: '160x90' });
  const viewer = new TestViewer(gateway.wsUrl(room));
  await waitFor(`frames over TLS in ${room}`, () => viewer.frames.length >= 10, 15_000);
  viewer.close();
  expect((await fetch(`http://127.0.0.1:${gateway.port}/readyz`)).status).toBe(200);
  await waitFor('registry ready', async () => (await fetch(`${registry.url}/readyz`)).status === 200, 10_000);
  expect((await registry.api('POST', '/rooms', { name: `${room}-made` })).status).toBe(201);
  // The connections really are TLS: the server has no plain port to fall back on.
  expect(gateway.lines.some((l) => /NOPERM|certificate/i.test(l))).toBe(false);
  await Promise.all([agent.stop(), gateway.stop(), registry.stop()]);
}

describe('Redis over TLS (rediss://)', () => {
  it('one Redis: registry, gateway and agent connect over TLS; frames reach viewers', async () => {
    await streamThrough({ REDIS_URL: `rediss://127.0.0.1:${singlePort}` }, 'tls-single');
  });

  it('a service that does not trust the certificate refuses the connection and says why', async () => {
    // No NODE_EXTRA_CA_CERTS with the test CA: the certificate cannot be verified.
    const gateway = await startGateway(`rediss://127.0.0.1:${singlePort}`, { NODE_EXTRA_CA_CERTS: '' });
    // Not ready from the start; the reason names the certificate once the first handshake failed.
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${gateway.port}/readyz`);
      return { status: res.status, body: await res.text() };
    };
    expect((await readyz()).status).toBe(503);
    await waitFor('/readyz names the certificate', async () => /certificate/i.test((await readyz()).body), 5000);
    expect((await readyz()).status).toBe(503);
    await gateway.stop();
  });

  it('a Redis Cluster over TLS, by host name, with a certificate for the name only: frames on sharded pub/sub reach viewers', async () => {
    // As managed clusters are set up: nodes announce a host name, the certificate names it and no
    // address, so a client that resolved the name and connected to the address would be refused.
    const named = makeTestCertificates({ names: 'dns' });
    try {
      cluster = await startTestRedisCluster({
        primaries: 3,
        replicasPerPrimary: 0,
        extraArgs: (port) => [...redisTlsArgs(named, port, { cluster: true }), '--cluster-announce-hostname', 'localhost', '--cluster-preferred-endpoint-type', 'hostname'],
        cliArgs: ['--tls', '--cacert', named.ca, '--sni', 'localhost'],
      });
      const seeds = cluster.nodes.map((n) => `localhost:${n.port}`).join(',');
      // REDIS_URL gives the scheme (TLS) and is one more seed; the rest are discovered.
      await streamThrough({ REDIS_CLUSTER_NODES: seeds, REDIS_URL: `rediss://localhost:${cluster.nodes[0]!.port}` }, 'tls-cluster', { NODE_EXTRA_CA_CERTS: named.ca });
    } finally {
      rmSync(named.dir, { recursive: true, force: true });
    }
  });
});
