import { jpegFrameSize } from '@framecast/protocol';

/**
 * Width and height of a JPEG from its frame header (SOF), no decoding. Passed-through camera
 * frames carry whatever size the camera chose, and the envelope must say it. Null when there is
 * no readable SOF.
 */
export function readJpegSize(jpeg: Uint8Array): { width: number; height: number } | null {
  const size = jpegFrameSize(jpeg);
  return size.ok ? { width: size.width, height: size.height } : null;
}
