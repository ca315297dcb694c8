import { parseArgs } from 'node:util';
import { serviceAclLines } from './service-acl.ts';

/**
 * Prints the `ACL SETUSER` lines of a deployment's service users (framecast-gateway,
 * framecast-registry), one per line, ready for `redis-cli` or an aclfile (drop the "ACL SETUSER "
 * prefix for `user …` lines):
 *
 *   node services/registry/src/print-acl.ts --gateway-password G --registry-password R | redis-cli
 *
 * Passwords come from the options or from FRAMECAST_GATEWAY_REDIS_PASSWORD /
 * FRAMECAST_REGISTRY_REDIS_PASSWORD (safer: not in the process list); only their SHA-256 is printed.
 * --gateway-publish also lets gateways publish frames (browser publishing, /ws/publish/<room>).
 */
const { values } = parseArgs({
  options: {
    'gateway-password': { type: 'string' },
    'registry-password': { type: 'string' },
    'gateway-publish': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const usage =
  'usage: print-acl --gateway-password <pw> --registry-password <pw> [--gateway-publish]\n' +
  '       (or FRAMECAST_GATEWAY_REDIS_PASSWORD / FRAMECAST_REGISTRY_REDIS_PASSWORD)';
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const gatewayPassword = values['gateway-password'] ?? process.env.FRAMECAST_GATEWAY_REDIS_PASSWORD ?? '';
const registryPassword = values['registry-password'] ?? process.env.FRAMECAST_REGISTRY_REDIS_PASSWORD ?? '';
if (!gatewayPassword || !registryPassword) {
  console.error(`print-acl: both passwords are required\n${usage}`);
  process.exit(2);
}
for (const line of serviceAclLines({ gatewayPassword, registryPassword, gatewayPublish: values['gateway-publish'] })) console.log(line);
