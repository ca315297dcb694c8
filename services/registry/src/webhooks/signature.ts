import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `x-framecast-signature: sha256=<hex>` where hex = HMAC-SHA256(secret, `${timestamp}.${body}`).
 * Signing the timestamp with the body lets receivers refuse replays of old deliveries.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does (and the tests do): recompute and compare in constant time. */
export function verifyWebhookSignature(secret: string, timestamp: string | number, body: string, signature: string): boolean {
  const expected = Buffer.from(signWebhook(secret, Number(timestamp), body));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
