import { fileURLToPath } from 'node:url';

/**
 * What a camera's `source` names. Every form is URL-like so one string (a flag, a variable or a
 * YAML field) says both the kind of source and where it is.
 */
export type SourceSpec =
  | { kind: 'testsrc' }
  | { kind: 'ffmpeg-testsrc' }
  | { kind: 'v4l2'; device: string }
  | { kind: 'rtsp'; url: string }
  | { kind: 'http-mjpeg'; url: string }
  | { kind: 'file'; path: string };

export type SourceKind = SourceSpec['kind'];

export const SOURCE_FORMS = 'testsrc, ffmpeg:testsrc, v4l2:/dev/videoN, rtsp://host/path, http(s)://host/mjpeg-stream or file:/path/to/video';

/** A source string that names no known kind of source. */
export class SourceSyntaxError extends Error {
  override readonly name = 'SourceSyntaxError';
}

/** Parses a source string; throws SourceSyntaxError with a message fit for a config error. */
export function parseSource(text: string): SourceSpec {
  const s = text.trim();
  if (s === 'testsrc') return { kind: 'testsrc' };
  if (s === 'ffmpeg:testsrc') return { kind: 'ffmpeg-testsrc' };
  const lower = s.toLowerCase();
  if (lower.startsWith('v4l2:')) {
    const device = s.slice('v4l2:'.length).replace(/^\/\/(?=\/)/, '');
    if (!device.startsWith('/')) throw new SourceSyntaxError('v4l2 needs an absolute device path, e.g. v4l2:/dev/video0');
    return { kind: 'v4l2', device };
  }
  if (lower.startsWith('file:')) {
    let path: string;
    try {
      path = lower.startsWith('file://') ? fileURLToPath(s) : s.slice('file:'.length);
    } catch {
      throw new SourceSyntaxError('is not a valid file: URL (use file:/absolute/path.mp4)');
    }
    if (!path.startsWith('/')) throw new SourceSyntaxError('file sources need an absolute path, e.g. file:/srv/clips/door.mp4');
    return { kind: 'file', path };
  }
  if (/^(rtsps?|https?):\/\//.test(lower)) {
    let url: URL;
    try {
      url = new URL(s);
    } catch {
      throw new SourceSyntaxError('is not a valid URL');
    }
    if (!url.hostname) throw new SourceSyntaxError('has no host');
    return url.protocol.startsWith('rtsp') ? { kind: 'rtsp', url: url.href } : { kind: 'http-mjpeg', url: url.href };
  }
  throw new SourceSyntaxError(`must be one of ${SOURCE_FORMS}`);
}

/** The source as logs, metrics and /healthz show it: a password in a URL becomes "***". */
export function describeSource(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'testsrc':
      return 'testsrc';
    case 'ffmpeg-testsrc':
      return 'ffmpeg:testsrc';
    case 'v4l2':
      return `v4l2:${spec.device}`;
    case 'file':
      return `file:${spec.path}`;
    case 'rtsp':
    case 'http-mjpeg':
      return redactUrl(spec.url);
  }
}

/** Replaces the password of a URL with ***. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return url;
  }
}

/**
 * Camera URLs carry credentials (rtsp://admin:secret@...) and ffmpeg echoes its input URL in
 * errors: every line of ffmpeg output goes through this before it is logged.
 */
export function redactCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]*:)[^@\s/]*@/gi, '$1***@');
}
