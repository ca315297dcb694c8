import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ERRORS } from './errors.ts';
import { validationError } from './api.ts';
import { signWebhook, verifyWebhookSignature } from './webhooks/signature.ts';

describe('error catalogue', () => {
  it('every error code is in the README with its status, and the README lists no other', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    const documented = new Map([...readme.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]));
    for (const [code, { status }] of Object.entries(API_ERRORS)) expect(documented.get(code), code).toBe(status);
    expect([...documented.keys()].sort()).toEqual(Object.keys(API_ERRORS).sort());
  });

  it('names the field the way a caller writes it', () => {
    const e = (over: object) => ({ keyword: 'type', instancePath: '', schemaPath: '', params: {}, message: 'must be string', ...over });
    expect(validationError('body', e({ instancePath: '/cameras/0/room' })).field).toBe('cameras[0].room');
    expect(validationError('body', e({ keyword: 'additionalProperties', params: { additionalProperty: 'colour' } })).toJSON()).toEqual({
      error: 'invalid_request',
      field: 'colour',
      message: 'colour is not a known field',
    });
    expect(validationError('body', e({ keyword: 'required', instancePath: '/cameras/1', params: { missingProperty: 'fps' } })).field).toBe('cameras[1].fps');
    expect(validationError('params', e({ instancePath: '/room' })).message).toBe('path room must be string');
    expect(validationError('body', e({})).field).toBe('body');
  });
});

describe('webhook signature', () => {
  it('is HMAC-SHA256 over timestamp.body, and any change breaks it', () => {
    const sig = signWebhook('k'.repeat(20), 1700000000, '{"a":1}');
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature('k'.repeat(20), '1700000000', '{"a":1}', sig)).toBe(true);
    expect(verifyWebhookSignature('k'.repeat(20), '1700000001', '{"a":1}', sig)).toBe(false);
    expect(verifyWebhookSignature('k'.repeat(20), '1700000000', '{"a":2}', sig)).toBe(false);
    expect(verifyWebhookSignature('k'.repeat(20), '1700000000', '{"a":1}', 'sha256=00')).toBe(false);
  });
});
