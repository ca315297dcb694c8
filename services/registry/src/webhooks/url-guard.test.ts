import { describe, expect, it } from 'vitest';
import { addressKind, checkWebhookUrl, EMPTY_ALLOW_LIST, parseAllowList, type HostLookup } from './url-guard.ts';

/** A resolver that knows a few names and fails (like ENOTFOUND) for the rest. */
const stub = (table: Record<string, string[]>): HostLookup & { asked: string[] } => {
  const asked: string[] = [];
  const fn = async (host: string) => {
    asked.push(host);
    const addrs = table[host];
    if (!addrs) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(fn, { asked });
};

const dns = stub({
  'hooks.example.com': ['93.184.216.34'],
  'v6.example.com': ['2606:4700::6810:84e5'],
  'rebind.example.com': ['127.0.0.1'],
  'mixed.example.com': ['93.184.216.34', '10.1.2.3'],
  'mixed6.example.com': ['2606:4700::6810:84e5', 'fd00::5'],
  'hooks.internal': ['10.0.0.7'],
  'metadata.example.com': ['169.254.169.254'],
});

const refused: Array<[what: string, url: string, reason: RegExp]> = [
  ['loopback v4', 'http://127.0.0.1:8080/hook', /127\.0\.0\.1 is not a public address \(loopback\)/],
  ['loopback v4, elsewhere in 127/8', 'http://127.10.0.1/hook', /loopback/],
  ['loopback v4 written as an integer', 'http://2130706433/hook', /127\.0\.0\.1 .*loopback/],
  ['loopback v6', 'http://[::1]:9000/hook', /::1 is not a public address \(loopback\)/],
  ['localhost', 'http://localhost:3000/hook', /localhost is a loopback name/],
  ['a localhost subdomain', 'http://api.localhost/hook', /loopback name/],
  ['link-local v4 (cloud metadata)', 'http://169.254.169.254/latest/meta-data/', /link-local/],
  ['link-local v6', 'http://[fe80::1]/hook', /link-local/],
  ['RFC 1918 10/8', 'http://10.20.30.40/hook', /private/],
  ['RFC 1918 172.16/12', 'http://172.16.0.1/hook', /private/],
  ['RFC 1918 172.16/12, top end', 'http://172.31.255.254/hook', /private/],
  ['RFC 1918 192.168/16', 'https://192.168.1.1/hook', /private/],
  ['IPv6 ULA', 'http://[fd12:3456::1]/hook', /private/],
  ['unspecified v4', 'http://0.0.0.0:8081/hook', /unspecified/],
  ['unspecified v6', 'http://[::]/hook', /unspecified/],
  ['IPv4-mapped v6 loopback', 'http://[::ffff:127.0.0.1]/hook', /IPv4-mapped loopback/],
  ['IPv4-mapped v6 private', 'http://[::ffff:10.0.0.1]/hook', /IPv4-mapped private/],
  ['NAT64 of a private address', 'http://[64:ff9b::a00:1]/hook', /NAT64 private/],
  ['CGNAT', 'http://100.64.0.1/hook', /CGNAT/],
  ['multicast v4', 'http://224.0.0.1/hook', /multicast/],
  ['multicast v6', 'http://[ff02::1]/hook', /multicast/],
  ['broadcast', 'http://255.255.255.255/hook', /broadcast/],
  ['reserved (240/4)', 'http://240.0.0.1/hook', /reserved/],
  ['documentation range', 'http://192.0.2.10/hook', /reserved/],
  ['credentials', 'https://user:pass@hooks.example.com/hook', /credentials/],
  ['a user name alone', 'https://user@hooks.example.com/hook', /credentials/],
  ['file: scheme', 'file:///etc/passwd', /scheme file: is not allowed/],
  ['gopher: scheme', 'gopher://hooks.example.com:70/_x', /scheme gopher: is not allowed/],
  ['ftp: scheme', 'ftp://hooks.example.com/x', /scheme ftp:/],
  ['data: scheme', 'data:text/plain,hi', /scheme data:/],
  ['a name that resolves to loopback', 'http://rebind.example.com/hook', /rebind\.example\.com resolves to 127\.0\.0\.1 \(loopback\)/],
  ['a name that resolves to link-local', 'http://metadata.example.com/', /resolves to 169\.254\.169\.254 \(link-local\)/],
  ['a name resolving to public and private addresses', 'http://mixed.example.com/hook', /resolves to 10\.1\.2\.3 \(private\)/],
  ['a name resolving to public and ULA addresses', 'http://mixed6.example.com/hook', /resolves to fd00::5 \(private\)/],
  ['an internal name without an allow-list', 'http://hooks.internal/hook', /resolves to 10\.0\.0\.7 \(private\)/],
  ['not a URL', 'not a url', /not a valid URL/],
];

describe('webhook URL guard', () => {
  it.each(refused)('refuses %s', async (_what, url, reason) => {
    const r = await checkWebhookUrl(url, EMPTY_ALLOW_LIST, dns);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });

  const accepted: Array<[what: string, url: string]> = [
    ['a public IPv4 address', 'http://93.184.216.34/hook'],
    ['a public IPv6 address', 'https://[2606:4700::6810:84e5]/hook'],
    ['a name resolving to a public address', 'https://hooks.example.com/hook?x=1'],
    ['a name resolving to a public IPv6 address', 'https://v6.example.com/hook'],
    ['just outside 172.16/12', 'http://172.32.0.1/hook'],
    ['just outside CGNAT', 'http://100.128.0.1/hook'],
    ['6to4 of a public address', 'http://[2002:5db8:d822::1]/hook'],
    ['a name that does not resolve (yet): deliveries re-check it', 'https://not-yet.example.com/hook'],
  ];
  it.each(accepted)('accepts %s', async (_what, url) => {
    expect(await checkWebhookUrl(url, EMPTY_ALLOW_LIST, dns)).toEqual({ ok: true });
  });

  it('does not ask DNS about IP literals, localhost or refused schemes', async () => {
    const lookup = stub({});
    for (const url of ['http://127.0.0.1/', 'http://[::1]/', 'http://localhost/', 'file:///x', 'http://93.184.216.34/']) await checkWebhookUrl(url, EMPTY_ALLOW_LIST, lookup);
    expect(lookup.asked).toEqual([]);
  });

  describe('with an allow-list', () => {
    const allow = parseAllowList('127.0.0.1, hooks.internal,10.0.0.0/8 , fd00::/8,localhost');
    const ok: Array<[what: string, url: string]> = [
      ['an allowed IP', 'http://127.0.0.1:9000/hook'],
      ['an allowed IP in IPv4-mapped form', 'http://[::ffff:127.0.0.1]/hook'],
      ['an allowed host name (whatever it resolves to)', 'http://hooks.internal/hook'],
      ['an allowed host name, any case, trailing dot', 'http://HOOKS.Internal./hook'],
      ['an address inside an allowed v4 range', 'http://10.200.3.4/hook'],
      ['a name resolving into an allowed range', 'http://mixed.example.com/hook'],
      ['an address inside an allowed v6 range', 'http://[fd00::5]/hook'],
      ['allowed localhost', 'http://localhost:3000/hook'],
    ];
    it.each(ok)('accepts %s', async (_what, url) => {
      expect(await checkWebhookUrl(url, allow, dns)).toEqual({ ok: true });
    });

    const still: Array<[what: string, url: string]> = [
      ['another loopback address', 'http://127.0.0.2/hook'],
      ['a private range not listed', 'http://192.168.0.10/hook'],
      ['a name resolving outside the list', 'http://metadata.example.com/'],
      ['credentials, even for an allowed host', 'http://a:b@hooks.internal/hook'],
      ['a bad scheme, even for an allowed host', 'gopher://hooks.internal/'],
    ];
    it.each(still)('still refuses %s', async (_what, url) => {
      expect((await checkWebhookUrl(url, allow, dns)).ok).toBe(false);
    });
  });

  it('parses the allow-list and names a bad entry', () => {
    expect(parseAllowList('').entries).toEqual([]);
    expect(parseAllowList(' a.example , ,10.0.0.0/8,::1,').entries).toEqual(['a.example', '10.0.0.0/8', '::1']);
    expect(() => parseAllowList('10.0.0.0/33')).toThrow(/"10\.0\.0\.0\/33" is not a CIDR range: the prefix must be 0–32/);
    expect(() => parseAllowList('fd00::/129')).toThrow(/prefix must be 0–128/);
    expect(() => parseAllowList('10.0.0.300/8')).toThrow(/10\.0\.0\.300 is not an IP address/);
    expect(() => parseAllowList('ok.example,http://x.example')).toThrow(/"http:\/\/x\.example" is neither a host name, an IP address nor a CIDR range/);
    expect(() => parseAllowList('*.example.com')).toThrow(/"\*\.example\.com"/);
    expect(() => parseAllowList('10.0.0.0/x')).toThrow(/prefix/);
  });

  it('classifies addresses', () => {
    expect(addressKind('8.8.8.8')).toBeNull();
    expect(addressKind('2001:4860:4860::8888')).toBeNull();
    expect(addressKind('127.0.0.1')).toBe('loopback');
    expect(addressKind('::ffff:7f00:1')).toBe('IPv4-mapped loopback');
    expect(addressKind('::ffff:8.8.8.8')).toBeNull();
    expect(addressKind('fe80::1%eth0')).toBe('link-local');
    expect(addressKind('2001:db8::1')).toBe('reserved');
    expect(addressKind('4000::1')).toBe('reserved');
  });
});
