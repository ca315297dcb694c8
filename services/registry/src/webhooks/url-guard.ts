import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * Which webhook URLs the registry will POST to. Webhooks are created by whoever holds the admin
 * key, and the delivery log shows the outcome per URL, so an unguarded registry is a port scanner
 * for its own network (and a reader of cloud metadata at 169.254.169.254). Refused: credentials in
 * the URL, schemes other than http(s), and hosts that are, or resolve to, addresses that are not
 * public unicast (loopback, link-local, private, CGNAT, unspecified, multicast, broadcast,
 * reserved, and IPv6 forms that embed such an IPv4 address) — unless the operator allow-list
 * (FRAMECAST_WEBHOOK_ALLOW_HOSTS) names the host, the address or a range holding it.
 */

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has (injectable so tests can stub DNS). */
export type HostLookup = (host: string) => Promise<ResolvedAddress[]>;

export const systemLookup: HostLookup = (host) => dnsLookup(host, { all: true, verbatim: true });

export type GuardResult = { ok: true } | { ok: false; reason: string };

/** The parsed FRAMECAST_WEBHOOK_ALLOW_HOSTS: host names, addresses and CIDR ranges. */
export interface AllowList {
  readonly entries: readonly string[];
  readonly hosts: ReadonlySet<string>;
  readonly ranges: BlockList;
}

const HOST_NAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

const ipType = (address: string) => (isIPv4(address) ? 'ipv4' : 'ipv6');
/** Lower case, no IPv6 brackets or zone id, no trailing dot. */
const normalizeHost = (host: string) => host.toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '').replace(/\.$/, '');

/**
 * Parses allow-list entries (a comma-separated string or a list). Throws an Error whose message
 * names the bad entry; config.ts turns it into a ConfigError naming the variable.
 */
export function parseAllowList(spec: string | readonly string[]): AllowList {
  const entries = (typeof spec === 'string' ? spec.split(',') : [...spec]).map((e) => e.trim()).filter((e) => e !== '');
  const hosts = new Set<string>();
  const ranges = new BlockList();
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    if (entry.includes('://')) {
      throw new Error(`"${entry}" is neither a host name, an IP address nor a CIDR range (give the host, not a URL)`);
    } else if (slash >= 0) {
      const net = entry.slice(0, slash);
      const bits = entry.slice(slash + 1);
      const max = isIPv4(net) ? 32 : isIP(net) === 6 ? 128 : 0;
      if (max === 0) throw new Error(`"${entry}" is not a CIDR range: ${net} is not an IP address`);
      if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) throw new Error(`"${entry}" is not a CIDR range: the prefix must be 0–${max}`);
      ranges.addSubnet(net, Number(bits), ipType(net));
    } else if (isIP(normalizeHost(entry))) {
      const address = normalizeHost(entry);
      ranges.addAddress(address, ipType(address));
    } else {
      const host = normalizeHost(entry);
      if (!HOST_NAME.test(host)) throw new Error(`"${entry}" is neither a host name, an IP address nor a CIDR range`);
      hosts.add(host);
    }
  }
  return { entries, hosts, ranges };
}

export const EMPTY_ALLOW_LIST: AllowList = parseAllowList([]);

/** Non-public IPv4 ranges, most specific first, each with the name used in refusals. */
const V4_RANGES: Array<[net: string, prefix: number, kind: string]> = [
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'unspecified'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['10.0.0.0', 8, 'private'],
  ['172.16.0.0', 12, 'private'],
  ['192.168.0.0', 16, 'private'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['224.0.0.0', 4, 'multicast'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['240.0.0.0', 4, 'reserved'],
];

/** Non-public IPv6 ranges. Forms embedding an IPv4 address are handled before these. */
const V6_RANGES: Array<[net: string, prefix: number, kind: string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'], // deprecated site-local
  ['fc00::', 7, 'private'], // unique local (ULA)
  ['ff00::', 8, 'multicast'],
  ['100::', 64, 'reserved'], // discard
  ['2001::', 23, 'reserved'], // IETF protocol assignments, Teredo
  ['2001:db8::', 32, 'reserved'], // documentation
  ['3fff::', 20, 'reserved'], // documentation
];

function compile(table: Array<[string, number, string]>, type: 'ipv4' | 'ipv6'): Array<[BlockList, string]> {
  return table.map(([net, prefix, kind]) => {
    const list = new BlockList();
    list.addSubnet(net, prefix, type);
    return [list, kind];
  });
}
const V4 = compile(V4_RANGES, 'ipv4');
const V6 = compile(V6_RANGES, 'ipv6');
/** Global unicast: every IPv6 address outside it is unassigned or special. */
const V6_GLOBAL = new BlockList();
V6_GLOBAL.addSubnet('2000::', 3, 'ipv6');

/** Expands an IPv6 address to its 8 groups. */
function groups(address: string): number[] {
  let text = address;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : new Array<string>(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((g) => parseInt(g, 16));
}

const v4From = (hi: number, lo: number) => `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;

/** An IPv4 address carried inside an IPv6 one (mapped, compatible, NAT64, 6to4), if any. */
function embeddedV4(address: string): { v4: string; form: string } | null {
  const g = groups(address);
  const zero = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && g[5] === 0xffff) return { v4: v4From(g[6]!, g[7]!), form: 'IPv4-mapped' };
  if (g[0] === 0x64 && g[1] === 0xff9b && zero(2, 6)) return { v4: v4From(g[6]!, g[7]!), form: 'NAT64' };
  if (zero(0, 6) && (g[6]! !== 0 || g[7]! > 1)) return { v4: v4From(g[6]!, g[7]!), form: 'IPv4-compatible' };
  if (g[0] === 0x2002) return { v4: v4From(g[1]!, g[2]!), form: '6to4' };
  return null;
}

/** What kind of non-public address this is ("loopback", "private", …), or null for a public one. */
export function addressKind(address: string): string | null {
  const ip = normalizeHost(address);
  const family = isIP(ip);
  if (family === 4) return V4.find(([list]) => list.check(ip, 'ipv4'))?.[1] ?? null;
  if (family !== 6) return 'not an IP address';
  const inner = embeddedV4(ip);
  if (inner) {
    const kind = addressKind(inner.v4);
    return kind === null ? null : `${inner.form} ${kind}`;
  }
  const kind = V6.find(([list]) => list.check(ip, 'ipv6'))?.[1];
  if (kind) return kind;
  return V6_GLOBAL.check(ip, 'ipv6') ? null : 'reserved';
}

function allowedAddress(address: string, allow: AllowList): boolean {
  const ip = normalizeHost(address);
  if (allow.ranges.check(ip, ipType(ip))) return true;
  const inner = isIPv4(ip) ? null : embeddedV4(ip);
  return inner !== null && allow.ranges.check(inner.v4, 'ipv4');
}

/**
 * Checks one address a host name resolved to (the delivery path calls this for every address it
 * is about to connect to). An allow-listed host name allows whatever it resolves to.
 */
export function checkAddress(host: string, address: string, allow: AllowList): GuardResult {
  const name = normalizeHost(host);
  if (allow.hosts.has(name) || allowedAddress(address, allow)) return { ok: true };
  const kind = addressKind(address);
  if (kind === null) return { ok: true };
  return { ok: false, reason: isIP(name) ? `${name} is not a public address (${kind})` : `${name} resolves to ${normalizeHost(address)} (${kind})` };
}

/** Checks every address; the first blocked one decides. */
export function checkAddresses(host: string, addresses: readonly string[], allow: AllowList): GuardResult {
  for (const address of addresses) {
    const r = checkAddress(host, address, allow);
    if (!r.ok) return r;
  }
  return { ok: true };
}

/** The parts of a URL that need no DNS: scheme, credentials, IP literals and `localhost`. */
export function checkUrlStatic(url: string | URL, allow: AllowList): GuardResult | { ok: 'resolve'; host: string } {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return { ok: false, reason: `scheme ${u.protocol} is not allowed (only http: and https:)` };
  if (u.username !== '' || u.password !== '') return { ok: false, reason: 'credentials (user:password@) in the URL are not allowed; authenticate with the signature instead' };
  const host = normalizeHost(u.hostname);
  if (host === '') return { ok: false, reason: 'the URL has no host' };
  if (allow.hosts.has(host)) return { ok: true };
  if (isIP(host)) return checkAddress(host, host, allow);
  // RFC 6761: localhost and its subdomains are loopback whatever a resolver says.
  if (host === 'localhost' || host.endsWith('.localhost')) return { ok: false, reason: `${host} is a loopback name` };
  return { ok: 'resolve', host };
}

/**
 * Checks a webhook URL: scheme, credentials, and the host, resolved with `lookup`. A name that
 * does not resolve now is accepted (deliveries resolve it again and check every address before
 * connecting); a name that resolves to any blocked address is refused.
 */
export async function checkWebhookUrl(url: string | URL, allow: AllowList = EMPTY_ALLOW_LIST, lookup: HostLookup = systemLookup): Promise<GuardResult> {
  const pre = checkUrlStatic(url, allow);
  if (pre.ok !== 'resolve') return pre;
  let addresses: ResolvedAddress[];
  try {
    addresses = await lookup(pre.host);
  } catch {
    return { ok: true };
  }
  return checkAddresses(
    pre.host,
    addresses.map((a) => a.address),
    allow,
  );
}
