/** How far into the data the start-of-frame may be: past APPn/EXIF/ICC segments, still a bound. */
const SOF_SEARCH_BYTES = 256 * 1024;

export type JpegSize = { ok: true; width: number; height: number } | { ok: false; problem: string };

/** SOF0–SOF15 but DHT (C4), JPG (C8) and DAC (CC), which share the range and are not frames. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Whether the data starts like a JPEG: SOI, then a marker. */
export function hasJpegStart(data: Uint8Array): boolean {
  return data.byteLength >= 4 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
}

/**
 * The picture size a JPEG's start-of-frame (SOF) states, found by walking the marker segments
 * after SOI by their lengths: a few reads, no decoding. Camera frames passed through carry
 * whatever size the camera chose, and a browser publisher's header must agree with its picture,
 * so the capture agent and the gateway both read it here. Says why when there is no usable SOF.
 */
export function jpegFrameSize(data: Uint8Array): JpegSize {
  const n = data.byteLength;
  if (!hasJpegStart(data)) return { ok: false, problem: 'the payload is not a JPEG (no SOI marker)' };
  const end = Math.min(n, SOF_SEARCH_BYTES);
  let i = 2;
  while (i + 4 <= end) {
    if (data[i] !== 0xff) return { ok: false, problem: `the JPEG is malformed (no marker at byte ${i})` };
    // Any number of 0xFF fill bytes may precede a marker.
    let m = i + 1;
    while (m < end && data[m] === 0xff) m++;
    if (m + 2 >= end) break;
    const marker = data[m]!;
    // Markers without a segment: TEM and RST0–7 (not expected before SOF, harmless).
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i = m + 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0xd9 || marker === 0xda || marker === 0x00) {
      return { ok: false, problem: 'the JPEG has no start-of-frame before its image data' };
    }
    const length = (data[m + 1]! << 8) | data[m + 2]!;
    if (length < 2) return { ok: false, problem: `the JPEG is malformed (segment length ${length} at byte ${m + 1})` };
    if (isStartOfFrame(marker)) {
      if (length < 8 || m + 8 >= n) return { ok: false, problem: 'the JPEG start-of-frame is truncated' };
      const height = (data[m + 4]! << 8) | data[m + 5]!;
      const width = (data[m + 6]! << 8) | data[m + 7]!;
      if (width === 0 || height === 0) return { ok: false, problem: `the JPEG start-of-frame states no size (${width}x${height})` };
      return { ok: true, width, height };
    }
    i = m + 1 + length;
  }
  return { ok: false, problem: `the JPEG has no start-of-frame in its first ${SOF_SEARCH_BYTES} bytes` };
}
