import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockedAddressError, guardedLookup, postWebhook } from './delivery.ts';
import { EMPTY_ALLOW_LIST, parseAllowList, type HostLookup } from './url-guard.ts';

const stub: HostLookup = async (host) => {
  const table: Record<string, string[]> = {
    'public.test': ['93.184.216.34', '2606:4700::6810:84e5'],
    'mixed.test': ['93.184.216.34', '127.0.0.1'],
    'loop.test': ['127.0.0.1'],
  };
  const a = table[host];
  if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

/** Calls a node:net lookup function and collects what it answers. */
const ask = (host: string, options: { all?: boolean; family?: number }, allow = EMPTY_ALLOW_LIST) =>
  new Promise<{ err: Error | null; result: unknown }>((resolve) => {
    const lookup = guardedLookup(allow, stub) as (h: string, o: object, cb: (err: Error | null, a?: unknown, f?: number) => void) => void;
    lookup(host, options, (err, address, family) => resolve({ err, result: options.all ? address : { address, family } }));
  });

describe('guarded lookup (the socket-level check)', () => {
  it('answers every address with all: true, one of the asked family without', async () => {
    expect(await ask('public.test', { all: true })).toEqual({
      err: null,
      result: [
        { address: '93.184.216.34', family: 4 },
        { address: '2606:4700::6810:84e5', family: 6 },
      ],
    });
    expect((await ask('public.test', { family: 6 })).result).toEqual({ address: '2606:4700::6810:84e5', family: 6 });
  });

  it('fails with BlockedAddressError when ANY address is blocked', async () => {
    const { err } = await ask('mixed.test', { all: true });
    expect(err).toBeInstanceOf(BlockedAddressError);
    expect(err!.message).toBe('mixed.test resolves to 127.0.0.1 (loopback)');
    expect((await ask('loop.test', { family: 4 })).err).toBeInstanceOf(BlockedAddressError);
  });

  it('lets allow-listed names and ranges through, and passes resolver errors on', async () => {
    expect((await ask('loop.test', { all: true }, parseAllowList('loop.test'))).err).toBeNull();
    expect((await ask('mixed.test', { all: true }, parseAllowList('127.0.0.0/8'))).err).toBeNull();
    const { err } = await ask('nowhere.test', { all: true });
    expect(err).not.toBeInstanceOf(BlockedAddressError);
    expect((err as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });
});

describe('postWebhook', () => {
  let server: Server;
  let port: number;
  const requests: string[] = [];
  let connections = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push(req.url!);
      req.resume();
      if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${port}/target` }).end();
      else if (req.url === '/hang') return;
      else res.writeHead(200).end('ok');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const allow = parseAllowList('127.0.0.1');
  const opts = (signal = AbortSignal.timeout(2_000)) => ({ body: '{"a":1}', headers: { 'content-type': 'application/json' }, signal, allow, lookup: stub });

  it('posts, and does not follow a redirect (the 3xx is the answer)', async () => {
    requests.length = 0;
    expect(await postWebhook(new URL(`http://127.0.0.1:${port}/ok`), opts())).toBe(200);
    expect(await postWebhook(new URL(`http://127.0.0.1:${port}/redirect`), opts())).toBe(302);
    expect(requests).toEqual(['/ok', '/redirect']);
  });

  it('refuses a blocked literal or name before connecting', async () => {
    const before = connections;
    await expect(postWebhook(new URL(`http://127.0.0.1:${port}/x`), { ...opts(), allow: EMPTY_ALLOW_LIST })).rejects.toThrow(BlockedAddressError);
    await expect(postWebhook(new URL(`http://loop.test:${port}/x`), { ...opts(), allow: EMPTY_ALLOW_LIST })).rejects.toThrow(/loop\.test resolves to 127\.0\.0\.1 \(loopback\)/);
    await expect(postWebhook(new URL(`http://u:p@127.0.0.1:${port}/x`), opts())).rejects.toThrow(/credentials/);
    expect(connections).toBe(before);
  });

  it('gives up when the signal fires', async () => {
    const signal = AbortSignal.timeout(200);
    await expect(postWebhook(new URL(`http://127.0.0.1:${port}/hang`), opts(signal))).rejects.toThrow();
    expect(signal.aborted).toBe(true);
  });
});
