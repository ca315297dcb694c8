/**
 * Width and height of a JPEG from its frame header (SOF), found by walking the marker segments
 * after SOI: a few length reads, no decoding. Passed-through camera frames carry whatever size
 * the camera chose, and the envelope must say it. Returns null when there is no readable SOF.
 */
export function readJpegSize(jpeg: Buffer): { width: number; height: number } | null {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return null;
  let pos = 2;
  while (pos + 4 <= jpeg.length) {
    if (jpeg[pos] !== 0xff) return null;
    const marker = jpeg[pos + 1]!;
    if (marker === 0xff) {
      pos++; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null; // EOI or SOS before any SOF
    const len = jpeg.readUInt16BE(pos + 2);
    if (len < 2) return null;
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (pos + 9 > jpeg.length) return null;
      const height = jpeg.readUInt16BE(pos + 5);
      const width = jpeg.readUInt16BE(pos + 7);
      return width > 0 && height > 0 ? { width, height } : null;
    }
    pos += 2 + len;
  }
  return null;
}
