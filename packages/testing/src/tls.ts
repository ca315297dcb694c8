import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  /** The test CA's certificate (what clients trust: NODE_EXTRA_CA_CERTS, redis-cli --cacert). */
  ca: string;
  /** The server's certificate and key, for 127.0.0.1 and localhost, signed by the CA. */
  cert: string;
  key: string;
}

/**
 * A throwaway CA and a server certificate for loopback, made with openssl (valid one day), for
 * 127.0.0.1 and localhost, or (`names: 'dns'`) for the name localhost only, as certificates for
 * managed Redis clusters are: a client connecting by address would be refused.
 */
export function makeTestCertificates(opts: { names?: 'ip-and-dns' | 'dns' } = {}): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'framecast-tls-'));
  const path = (name: string) => join(dir, name);
  writeFileSync(path('ext.cnf'), opts.names === 'dns' ? 'subjectAltName=DNS:localhost\n' : 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  const steps: string[][] = [
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '1', '-subj', '/CN=framecast test CA'],
    ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=localhost'],
    ['x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial', '-out', path('server.crt'), '-days', '1', '-extfile', path('ext.cnf')],
  ];
  for (const args of steps) {
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  }
  return { dir, ca: path('ca.crt'), cert: path('server.crt'), key: path('server.key') };
}

/** redis-server arguments that serve TLS only, on `port` (the plain port is off). */
export function redisTlsArgs(certs: TestCertificates, port: number, opts: { cluster?: boolean } = {}): string[] {
  return [
    '--port', '0', '--tls-port', String(port),
    '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca,
    '--tls-auth-clients', 'no',
    ...(opts.cluster ? ['--tls-cluster', 'yes', '--tls-replication', 'yes'] : []),
  ];
}
