import type { FrameHeader } from '@framecast/protocol';

/**
 * MJPEG over HTTP: one `multipart/x-mixed-replace` response, one part per frame, the format
 * browsers' <img>, VLC, ffmpeg/ffplay, Home Assistant, motionEye and go2rtc read. The boundary is
 * fixed: JPEG data cannot contain it on a line of its own, and every part carries its length.
 */
export const MJPEG_BOUNDARY = 'framecast';

/** The response head of an MJPEG stream, written to the socket as is (the connection ends with the stream). */
export const MJPEG_RESPONSE_HEAD =
  'HTTP/1.1 200 OK\r\n' +
  `Content-Type: multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}\r\n` +
  'Cache-Control: no-store\r\n' +
  'X-Content-Type-Options: nosniff\r\n' +
  'Connection: close\r\n' +
  '\r\n';

/**
 * One part: boundary, headers (the capture time and sequence too, for clients that want latency),
 * the JPEG, CRLF. Built once per frame and shared by every MJPEG viewer of the room.
 */
export function mjpegPart(jpeg: Uint8Array, header: FrameHeader): Buffer {
  const head =
    `--${MJPEG_BOUNDARY}\r\n` +
    'Content-Type: image/jpeg\r\n' +
    `Content-Length: ${jpeg.byteLength}\r\n` +
    `X-Frame-Sequence: ${header.sequence}\r\n` +
    `X-Capture-Time-Us: ${header.captureTimeUs}\r\n` +
    '\r\n';
  const headBytes = Buffer.byteLength(head, 'latin1');
  const out = Buffer.allocUnsafe(headBytes + jpeg.byteLength + 2);
  out.write(head, 0, 'latin1');
  out.set(jpeg, headBytes);
  out.write('\r\n', headBytes + jpeg.byteLength, 'latin1');
  return out;
}
