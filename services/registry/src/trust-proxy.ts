import { isIP } from 'node:net';

/**
 * FRAMECAST_TRUST_PROXY, as fastify's `trustProxy` takes it: false (the client address is the TCP
 * peer), a hop count (trust that many proxies in front), or the addresses/CIDR ranges of the
 * proxies (plus proxy-addr's names `loopback`, `linklocal`, `uniquelocal`). `true` is refused: it
 * would let any client pick its own address with X-Forwarded-For, and so escape the per-address
 * auth-failure limit.
 */
export type TrustProxy = false | number | string[];

const NAMED = new Set(['loopback', 'linklocal', 'uniquelocal']);

export const TRUST_PROXY_RULE = 'off, a hop count 1-10, or comma-separated proxy addresses/CIDR ranges (loopback, linklocal, uniquelocal allowed); not true';

/** Parses the variable's text; throws an Error whose message says what is wrong. */
export function parseTrustProxy(text: string): TrustProxy {
  const value = text.trim().toLowerCase();
  if (value === '' || value === 'off' || value === 'false' || value === 'no' || value === '0') return false;
  if (value === 'true' || value === 'on' || value === 'yes' || value === 'all' || value === '*') {
    throw new Error(`must be ${TRUST_PROXY_RULE}: trusting every peer lets any client choose its address`);
  }
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops < 1 || hops > 10) throw new Error(`must be ${TRUST_PROXY_RULE} (hop count out of range)`);
    return hops;
  }
  const entries = value.split(',').map((e) => e.trim());
  for (const entry of entries) {
    if (!isProxyEntry(entry)) throw new Error(`must be ${TRUST_PROXY_RULE} (${JSON.stringify(entry.slice(0, 60))} is not an address, range or name)`);
  }
  return entries;
}

function isProxyEntry(entry: string): boolean {
  if (NAMED.has(entry)) return true;
  const slash = entry.indexOf('/');
  if (slash === -1) return isIP(entry) !== 0;
  const family = isIP(entry.slice(0, slash));
  const bits = entry.slice(slash + 1);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
