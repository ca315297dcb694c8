import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLOSES, shouldReconnect } from './close-codes.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('the close table', () => {
  it('gives each row advice that agrees with its code range', () => {
    for (const [error, spec] of Object.entries(CLOSES)) expect(shouldReconnect(spec.code), error).toBe(spec.reconnect);
  });

  it('keeps every reason within a close frame (123 bytes)', () => {
    for (const spec of Object.values(CLOSES)) expect(Buffer.byteLength(spec.reason)).toBeLessThanOrEqual(123);
  });

  it('is documented row for row in the protocol README', () => {
    const rows = new Map<string, number>();
    for (const m of readme.matchAll(/^\| `([a-z_]+)` \| (\d+) \|/gm)) rows.set(m[1]!, Number(m[2]));
    expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(Object.entries(CLOSES).map(([k, v]) => [k, v.code])));
  });
});
