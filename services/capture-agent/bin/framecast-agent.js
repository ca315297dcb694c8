#!/usr/bin/env node
// Runs the TypeScript CLI directly: tsx registers its loader, then main.ts is imported.
import('tsx/esm/api').then(({ register }) => {
  register();
  return import('../src/main.ts');
});
