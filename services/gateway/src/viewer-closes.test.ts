import type { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import * as wsModule from 'ws';
import { CloseCode } from '@framecast/protocol';
import { closeCodeLabel, libraryCloseCode } from './viewer-closes.ts';

// ws's frame parser, the one the gateway's websocket server runs (exported, not in @types/ws).
const { Receiver } = wsModule as unknown as { Receiver: new (opts: { isServer: boolean; maxPayload: number }) => Writable };

/** A client frame (masked with a zero key, so the payload reads as is). */
function clientFrame(firstByte: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([firstByte, 0x80 | len]) : Buffer.from([firstByte, 0x80 | 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

/** What `ws` does with a frame the viewer route receives: the error it emits and the close code it sends. */
function refuse(frame: Buffer): Promise<{ err: Error; sent: number }> {
  return new Promise((resolve) => {
    const receiver = new Receiver({ isServer: true, maxPayload: 4096 });
    receiver.on('error', (err: Error) => {
      const status = Object.getOwnPropertySymbols(err).find((s) => s.description === 'status-code');
      resolve({ err, sent: (err as unknown as Record<symbol, number>)[status!]! });
    });
    receiver.write(frame);
  });
}

describe('counting viewer closes', () => {
  it.each([
    ['an oversized message', clientFrame(0x82, Buffer.alloc(5000)), 1009],
    ['invalid UTF-8 in a text message', clientFrame(0x81, Buffer.from([0xff, 0xfe])), 1007],
    ['an unmasked frame', Buffer.from([0x82, 0x01, 0x00]), 1002],
    ['an unknown opcode', clientFrame(0x83, Buffer.alloc(1)), 1002],
    ['a close frame with an invalid code', clientFrame(0x88, Buffer.from([0x03, 0xe7])), 1002],
  ])('names the code ws sends for %s', async (_what, frame, code) => {
    const { err, sent } = await refuse(frame);
    expect(sent).toBe(code);
    expect(libraryCloseCode(err)).toBe(code);
  });

  it('reads 0 from errors that are not refused frames', () => {
    expect(libraryCloseCode(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(0);
    expect(libraryCloseCode(new Error('plain'))).toBe(0);
  });

  it('keeps the label set bounded: codes a client makes up are "other"', () => {
    for (const code of [1000, 1001, 1002, 1005, 1006, 1009, CloseCode.NotResponding, CloseCode.Stalled, CloseCode.ServiceRestart]) expect(closeCodeLabel(code)).toBe(String(code));
    for (const code of [3000, 4000, 4999, 1004, 2999]) expect(closeCodeLabel(code)).toBe('other');
  });
});
