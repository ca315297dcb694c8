import { connect, createServer, type Server, type Socket } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '@framecast/protocol';
import { startTestRedis, stopAllServices, TestViewer, waitFor, type TestRedis } from '@framecast/testing';
import { startRegistry, type RegistryProcess } from '../../registry/test/helpers.ts';
import { startGateway, TestPublisher, type GatewayProcess } from './helpers.ts';

// Viewers whose network vanishes, and every other way a viewer's connection ends, against real
// gateway, registry and Redis processes. The gateway pings every PING_MS; a viewer that has not
// answered by the next ping is closed with 4504 and leaves presence.

const PING_MS = 500;
let redis: TestRedis;
let reg: RegistryProcess;
let gw: GatewayProcess;
const proxies: TcpProxy[] = [];
const publishers: Array<{ pub: TestPublisher; timer: NodeJS.Timeout }> = [];

beforeAll(async () => {
  redis = await startTestRedis();
  reg = await startRegistry(redis.url, { FRAMECAST_SWEEP_INTERVAL_MS: '500' });
  gw = await startGateway(redis.url, {
    FRAMECAST_PING_INTERVAL_MS: String(PING_MS),
    FRAMECAST_PRESENCE_FLUSH_MS: '100',
    FRAMECAST_PRESENCE_HEARTBEAT_MS: '300',
    LOG_LEVEL: 'debug',
  });
  for (const name of ['frozen', 'closes', 'quiet']) expect((await reg.api('POST', '/rooms', { name })).status).toBe(201);
});
afterAll(async () => {
  for (const p of publishers) {
    clearInterval(p.timer);
    p.pub.close();
  }
  for (const p of proxies) p.close();
  await stopAllServices();
  await redis?.close();
});

/**
 * A TCP proxy between a viewer and the gateway. `freeze()` stops forwarding both ways without
 * closing either side (no FIN, no RST): to both ends the connection looks alive, as when a
 * viewer's network vanishes. With `idleTimeoutMs` it cuts connections that carry no byte either
 * way for that long, as load balancers do.
 */
class TcpProxy {
  readonly server: Server;
  readonly pairs: Array<{ client: Socket; upstream: Socket }> = [];
  /** Connections cut for being idle. */
  idleCuts = 0;
  port = 0;

  constructor(targetPort: number, idleTimeoutMs?: number) {
    this.server = createServer((client) => {
      const upstream = connect({ port: targetPort, host: '127.0.0.1' });
      this.pairs.push({ client, upstream });
      for (const s of [client, upstream]) s.on('error', () => {});
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      if (idleTimeoutMs !== undefined) {
        // Any byte either way is activity; a connection quiet for the timeout is cut.
        client.setTimeout(idleTimeoutMs);
        upstream.setTimeout(idleTimeoutMs);
        let last = Date.now();
        const touch = () => (last = Date.now());
        client.on('data', touch);
        upstream.on('data', touch);
        const onTimeout = () => {
          if (Date.now() - last < idleTimeoutMs) return;
          this.idleCuts++;
          client.destroy();
          upstream.destroy();
        };
        client.on('timeout', onTimeout);
        upstream.on('timeout', onTimeout);
      }
    });
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
    proxies.push(this);
    return this;
  }

  url(room: string): string {
    return `ws://127.0.0.1:${this.port}/ws/video/${room}`;
  }

  freeze(): void {
    for (const { client, upstream } of this.pairs) {
      client.unpipe(upstream);
      upstream.unpipe(client);
      client.pause();
      upstream.pause();
    }
  }

  close(): void {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.server.close();
  }
}

const closed = (code: number | string) => gw.metric('framecast_gateway_viewers_closed_total', `code="${code}"`);
const closedTotal = () => gw.metric('framecast_gateway_viewers_closed_total');
const roomViewers = async (room: string) => (await reg.api('GET', `/rooms/${room}/viewers`)).body as { total: number };
const lineCount = (re: RegExp) => gw.lines.filter((l) => re.test(l)).length;

function publish(room: string): void {
  const pub = new TestPublisher(redis.url, room);
  publishers.push({ pub, timer: setInterval(() => void pub.frame(2000), 50) });
}

describe('dead viewers', () => {
  it('closes a viewer whose connection froze without FIN after about two ping intervals, and drops it from presence', async () => {
    publish('frozen'); // frames keep flowing to it: they are no sign of life, only pongs are
    const proxy = await new TcpProxy(gw.port).listen();
    const frozen = new TestViewer(proxy.url('frozen'), { hash: false });
    const healthy = new TestViewer(gw.wsUrl('frozen'), { hash: false });
    await Promise.all([frozen.opened, healthy.opened]);
    await waitFor('both viewers in presence', async () => (await roomViewers('frozen')).total === 2, 5000);
    await waitFor('frames reach the frozen viewer', () => frozen.frames.length > 3, 5000);

    const closedBefore = lineCount(/viewer socket closed after the gateway closed it/);
    proxy.freeze();
    const frozenAt = Date.now();
    await waitFor('frozen viewer closed with 4504', async () => (await closed(CloseCode.NotResponding)) === 1, 4 * PING_MS + 3000);
    const closedAfterMs = Date.now() - frozenAt;
    await waitFor('frozen viewer gone from presence', async () => (await roomViewers('frozen')).total === 1, 5000);
    const goneFromPresenceMs = Date.now() - frozenAt;
    process.stdout.write(`frozen viewer (ping every ${PING_MS} ms): closed ${closedAfterMs} ms after the freeze, gone from the registry's presence after ${goneFromPresenceMs} ms\n`);
    // Between one interval (a ping already unanswered) and two (the first ping after the freeze
    // goes unanswered for a whole interval); the rest is slack for a loaded machine.
    expect(closedAfterMs).toBeGreaterThanOrEqual(PING_MS - 100);
    expect(closedAfterMs).toBeLessThan(2 * PING_MS + 1500);
    expect(gw.lines.some((l) => /closed viewers that did not answer a ping/.test(l))).toBe(true);
    expect(await gw.metric('framecast_gateway_viewers')).toBe(1);

    // The healthy viewer answers every ping: it stays and keeps receiving.
    const n = healthy.frames.length;
    await waitFor('healthy viewer still receiving', () => healthy.frames.length > n + 5, 5000);
    expect(healthy.closeCode).toBeNull();
    expect(await closed(CloseCode.Stalled)).toBe(0);

    // The gateway cuts the frozen socket after the close handshake's grace; that close is not counted again.
    await waitFor('frozen socket cut', () => lineCount(/viewer socket closed after the gateway closed it/) > closedBefore, 5000);
    expect(await closedTotal()).toBe(1);
    healthy.close(); // a close frame without a code: 1005 on the gateway's side
    await waitFor('healthy viewer closed', async () => (await closedTotal()) === 2, 5000);
    expect(await closed(1005)).toBe(1);
  });

  it('counts every other close once, by code, and drops the viewer from presence', async () => {
    const base = await closedTotal();
    const cases: Array<[string, number | string, (ws: WebSocket) => void]> = [
      ['a client closing normally', 1000, (ws) => ws.close(1000)],
      ['a client closing without a code', 1005, (ws) => ws.close()],
      ['a client going away', 1001, (ws) => ws.close(1001)],
      ['a client with its own code', 'other', (ws) => ws.close(4321)],
      ['a client dropping the TCP connection', 1006, (ws) => ws.terminate()],
      ['a client sending a message over 4 KiB', 1009, (ws) => ws.send(Buffer.alloc(5000))],
    ];
    for (const [what, code, act] of cases) {
      const before = await closed(code);
      const ws = new WebSocket(gw.wsUrl('closes'), { perMessageDeflate: false });
      ws.on('error', () => {});
      const hello = new Promise((r) => ws.once('message', r));
      await hello;
      await waitFor(`${what}: in presence`, async () => (await roomViewers('closes')).total === 1, 5000);
      act(ws);
      await waitFor(`${what}: counted as ${code}`, async () => (await closed(code)) === before + 1, 5000);
      await waitFor(`${what}: gone from presence`, async () => (await roomViewers('closes')).total === 0, 5000);
      expect(await gw.metric('framecast_gateway_viewers')).toBe(0);
    }

    // A protocol error: an unmasked frame (clients must mask), sent over a raw socket after a real handshake.
    const before1002 = await closed(1002);
    const raw = connect({ port: gw.port, host: '127.0.0.1' });
    raw.on('error', () => {});
    raw.write(`GET /ws/video/closes HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    let got = '';
    await new Promise<void>((resolve) =>
      raw.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.includes('"hello"')) resolve();
      }),
    );
    raw.write(Buffer.from([0x82, 0x01, 0x00]));
    await waitFor('protocol error counted as 1002', async () => (await closed(1002)) === before1002 + 1, 5000);
    raw.destroy();
    await waitFor('gone from presence', async () => (await roomViewers('closes')).total === 0, 5000);

    // Each viewer was counted exactly once, under one code.
    await waitFor('all sockets closed', () => lineCount(/viewer connection closed/) >= cases.length + 1, 5000);
    expect((await closedTotal()) - base).toBe(cases.length + 1);
  });

  it('keeps an idle viewer of a room without frames alive through a proxy with an idle timeout', async () => {
    const IDLE_MS = 3 * PING_MS;
    const proxy = await new TcpProxy(gw.port, IDLE_MS).listen();
    // Proof that the proxy does cut quiet connections: one that sends nothing is cut.
    const silent = connect({ port: proxy.port, host: '127.0.0.1' });
    silent.on('error', () => {});
    const silentClosed = new Promise((r) => silent.once('close', r));

    const ws = new WebSocket(proxy.url('quiet'), { perMessageDeflate: false });
    ws.on('error', () => {});
    let pings = 0;
    let closeCode: number | null = null;
    ws.on('ping', () => pings++);
    ws.on('close', (code) => (closeCode = code));
    await new Promise((r) => ws.once('open', r));
    const openedAt = Date.now();

    await silentClosed;
    expect(proxy.idleCuts).toBe(1);
    // Pings (and the pongs ws answers with) are the only traffic; they outlast the idle timeout many times.
    await waitFor('pings over several idle timeouts', () => pings >= 8, 20 * PING_MS + 5000);
    expect(Date.now() - openedAt).toBeGreaterThan(2 * IDLE_MS);
    expect(closeCode).toBeNull();
    expect(proxy.idleCuts).toBe(1);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    await waitFor('viewer in presence', async () => (await roomViewers('quiet')).total === 1, 5000);
    ws.close();
    await waitFor('viewer gone', async () => (await roomViewers('quiet')).total === 0, 5000);
  });
});
