#!/usr/bin/env -S node --max-semi-space-size=1 --external-memory-accounted-in-global-limit --initial-old-space-size=32
// The V8 heap flags of the gateway's `start` script (package.json; docs/PERFORMANCE.md, "GC flags").
// The service as shipped: Node (>= 24) runs its TypeScript itself, stripping the types; no build
// step, no loader. Its compile cache (@framecast/lifecycle/compile-cache) keeps the stripped
// modules, so only a first start pays for the stripper. This file stays JavaScript so an older
// Node says what is wrong instead of failing on the .ts extension.
if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(`framecast-gateway: needs Node.js 24 or newer, this is ${process.version}\n`);
  process.exit(2);
}
await import('@framecast/lifecycle/compile-cache');
await import('../src/main.ts');
