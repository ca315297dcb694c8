#!/usr/bin/env node
// The embedded default (gateway, registry and a test-pattern agent in one process), as `pnpm start`
// runs it. Node (>= 24) runs its TypeScript itself; the compile cache
// (@framecast/lifecycle/compile-cache) keeps the stripped modules, so only a first start pays for
// the type stripper. This file stays JavaScript so an older Node says what is wrong instead of
// failing on the .ts extension.
if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(`framecast: needs Node.js 24 or newer, this is ${process.version}\n`);
  process.exit(2);
}
await import('@framecast/lifecycle/compile-cache');
await import('../src/main.ts');
