import { hasJpegStart, jpegFrameSize, type JpegSize } from '@framecast/protocol';

/**
 * Whether bytes from a browser publisher are one whole JPEG of the size its envelope claims. Not a
 * decoder: SOI at the start, EOI at the end, and the size its start-of-frame states (read by the
 * protocol's jpegFrameSize, as the capture agent reads it). That catches what a viewer would
 * otherwise choke on: something that is not a JPEG, a truncated one, or a header whose width and
 * height disagree with the picture (viewers size their canvas from the header).
 */
export function checkJpeg(data: Uint8Array): JpegSize {
  const n = data.byteLength;
  if (!hasJpegStart(data)) return { ok: false, problem: 'the payload is not a JPEG (no SOI marker)' };
  if (data[n - 2] !== 0xff || data[n - 1] !== 0xd9) return { ok: false, problem: 'the JPEG is truncated (no EOI marker at its end)' };
  return jpegFrameSize(data);
}
