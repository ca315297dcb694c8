import { describe, expect, it } from 'vitest';
import * as ws from 'ws';
import { frameBinaryMessage } from './ws-frame.ts';

// The pre-framed message must be exactly what a browser's websocket parser accepts; `ws`'s own
// Receiver (client side: frames from a server are unmasked) is the reference parser here.
// ws exports its Receiver at runtime; @types/ws does not declare it.
interface ReceiverLike {
  on(event: 'message', cb: (data: Buffer, isBinary: boolean) => void): void;
  on(event: 'error', cb: (err: Error) => void): void;
  write(chunk: Buffer): void;
}
const { Receiver } = ws as unknown as { Receiver: new (opts: { isServer: boolean; maxPayload: number }) => ReceiverLike };

function parse(wire: Buffer): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const receiver = new Receiver({ isServer: false, maxPayload: 0 });
    receiver.on('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary }));
    receiver.on('error', reject);
    receiver.write(wire);
  });
}

describe('frameBinaryMessage', () => {
  // Lengths at each boundary of RFC 6455's three length encodings.
  for (const len of [0, 1, 125, 126, 127, 65_535, 65_536, 200_000, 3 * 1024 * 1024]) {
    it(`frames a ${len}-byte payload as one final, unmasked binary message`, async () => {
      const payload = Buffer.alloc(len);
      for (let i = 0; i < len; i++) payload[i] = (i * 31 + 7) & 0xff;
      const wire = frameBinaryMessage(payload);
      const header = len < 126 ? 2 : len < 0x10000 ? 4 : 10;
      expect(wire.byteLength).toBe(header + len);
      expect(wire[0]).toBe(0x82);
      expect(wire[1]! & 0x80).toBe(0); // no mask bit
      const { data, isBinary } = await parse(wire);
      expect(isBinary).toBe(true);
      expect(data.equals(payload)).toBe(true);
    });
  }

  it('copies the payload, so the published buffer can be reused', () => {
    const payload = Buffer.from([1, 2, 3]);
    const wire = frameBinaryMessage(payload);
    payload[0] = 9;
    expect([...wire.subarray(2)]).toEqual([1, 2, 3]);
  });
});
