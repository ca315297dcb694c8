import { describe, expect, it } from 'vitest';
import { Codec, decodeEnvelope, encodeEnvelope, FrameFlags, PUBLISH_MAX_DIMENSION } from '@framecast/protocol';
import { checkPublishedFrame, clampCaptureTime, PublishRate, republish } from './frame-rules.ts';

// A JPEG as far as the check reads one: SOI, a baseline SOF with the size, image data, EOI.
function jpeg(width: number, height: number, body = 16): Uint8Array {
  return Uint8Array.from([0xff, 0xd8, 0xff, 0xc0, 0, 11, 8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0, ...new Array(body).fill(7), 0xff, 0xd9]);
}
const NOW_US = 1_700_000_000_000_000;
const frame = (over: Partial<Parameters<typeof encodeEnvelope>[0]> = {}, payload = jpeg(640, 360)) =>
  encodeEnvelope({ sequence: 9, captureTimeUs: NOW_US - 20_000, width: 640, height: 360, ...over }, payload);

describe('checkPublishedFrame', () => {
  it('passes a JPEG envelope of a sane size, with a view of its payload', () => {
    const env = frame();
    const verdict = checkPublishedFrame(env, 1 << 20);
    expect(verdict).toMatchObject({ ok: true, header: { width: 640, height: 360, sequence: 9 } });
    expect(verdict.ok && Buffer.from(verdict.payload).equals(Buffer.from(jpeg(640, 360)))).toBe(true);
  });

  const refused: Array<[string, Uint8Array, 'invalid' | 'oversized', RegExp]> = [
    ['garbage', new TextEncoder().encode('definitely not an envelope'), 'invalid', /bad magic/],
    ['a truncated envelope', frame().subarray(0, 40), 'invalid', /announces|shorter/],
    ['another codec', (() => { const b = frame(); b[5] = 2; return b; })(), 'invalid', /codec 2/],
    ['a PNG in a JPEG envelope', frame({}, Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3, 4])), 'invalid', /not a JPEG/],
    ['a JPEG cut short', frame({}, jpeg(640, 360).subarray(0, 30)), 'invalid', /truncated/],
    ['a header that lies about the size', frame({ width: 1280, height: 720 }), 'invalid', /says 1280x720, the JPEG is 640x360/],
    ['zero width', frame({ width: 0 }, jpeg(0, 360)), 'invalid', /outside 1-4096/],
    ['too tall', frame({ height: PUBLISH_MAX_DIMENSION + 1 }, jpeg(640, PUBLISH_MAX_DIMENSION + 1)), 'invalid', /outside 1-4096/],
    ['over the byte limit', frame({}, jpeg(640, 360, 2000)), 'oversized', /exceeds the limit of 1024/],
  ];
  it.each(refused)('drops %s, saying why', (_what, data, reason, problem) => {
    const verdict = checkPublishedFrame(data, 1024);
    expect(verdict).toMatchObject({ ok: false, reason });
    expect(verdict.ok ? '' : verdict.problem).toMatch(problem);
  });
});

describe('republish', () => {
  it("writes the gateway's sequence, keeps a plausible capture time, drops unknown flags", () => {
    const env = frame({ sequence: 4_000_000_000, flags: 0xfff0 | FrameFlags.Synthetic });
    const verdict = checkPublishedFrame(env, 1 << 20);
    if (!verdict.ok) throw new Error(verdict.problem);
    const out = decodeEnvelope(republish(verdict.header, verdict.payload, 3, NOW_US));
    expect(out.header).toMatchObject({ sequence: 3, captureTimeUs: NOW_US - 20_000, width: 640, height: 360, codec: Codec.Jpeg, flags: FrameFlags.Synthetic, headerLength: 32 });
    expect(Buffer.from(out.payload).equals(Buffer.from(verdict.payload))).toBe(true);
  });

  it('clamps a capture time in the future, or more than 5 s old, to now', () => {
    expect(clampCaptureTime(NOW_US + 1, NOW_US)).toBe(NOW_US);
    expect(clampCaptureTime(NOW_US + 3_600_000_000, NOW_US)).toBe(NOW_US);
    expect(clampCaptureTime(NOW_US - 5_000_001, NOW_US)).toBe(NOW_US);
    expect(clampCaptureTime(0, NOW_US)).toBe(NOW_US);
    expect(clampCaptureTime(NOW_US - 5_000_000, NOW_US)).toBe(NOW_US - 5_000_000);
    expect(clampCaptureTime(NOW_US - 40_000, NOW_US)).toBe(NOW_US - 40_000);
  });
});

describe('PublishRate', () => {
  it('lets a burst of a quarter second through, then the configured rate', () => {
    const rate = new PublishRate(30, 0);
    let passed = 0;
    for (let i = 0; i < 100; i++) if (rate.take(0)) passed++;
    expect(passed).toBe(8); // ceil(30 / 4)
    // One second later: 30 more, not 100.
    passed = 0;
    for (let t = 1; t <= 1000; t += 1) if (rate.take(t)) passed++;
    expect(passed).toBeGreaterThanOrEqual(29);
    expect(passed).toBeLessThanOrEqual(31);
  });

  it('never punishes a page at the rate limit whose timer is jittery', () => {
    const rate = new PublishRate(10, 0);
    let t = 0;
    for (let i = 0; i < 200; i++) {
      t += i % 2 === 0 ? 60 : 140; // 10 fps on average, alternating early and late
      expect(rate.take(t), `frame ${i}`).toBe(true);
    }
  });

  it('allows at least 2 in a row even at 1 fps', () => {
    const rate = new PublishRate(1, 0);
    expect([rate.take(0), rate.take(0), rate.take(0)]).toEqual([true, true, false]);
    expect(rate.take(999)).toBe(false);
    expect(rate.take(1001)).toBe(true);
  });
});
