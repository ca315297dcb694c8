import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, FieldProblem, parsedText, v } from '@framecast/config';
import { isValidRoomName, ROOM_NAME_RULE } from '@framecast/protocol';
import { describeSource, parseSource, SourceSyntaxError, type SourceSpec } from './source-url.ts';

export interface FrameSize {
  width: number;
  height: number;
}

/** One camera, fully resolved: what the agent runs a pipeline for. */
export interface CameraConfig {
  /** Names the camera in logs, metrics and /healthz; defaults to the room. */
  name: string;
  room: string;
  source: SourceSpec;
  /** The source as it may be shown (URL passwords replaced by ***). */
  sourceText: string;
  size: FrameSize;
  fps: number;
  quality: number;
  /** No frame for this long and the source counts as failed and is restarted. */
  stallTimeoutMs: number;
  /** Pass a camera's own JPEGs through (no re-encode) when it delivers MJPEG at `size`. */
  mjpegPassthrough: boolean;
}

/** The per-camera settings that the environment (or a config file's `defaults`) provides. */
export type CameraDefaults = Pick<CameraConfig, 'size' | 'fps' | 'quality' | 'stallTimeoutMs' | 'mjpegPassthrough'>;

// Even dimensions keep 4:2:0 chroma subsampling exact (ffmpeg's encoders insist on it); the
// upper bounds are 4K UHD, far above what a JPEG-over-websocket stream can carry at any fps.
const SIZE_BOUNDS = { minWidth: 16, maxWidth: 3840, minHeight: 16, maxHeight: 2160 } as const;
export const SIZE_RULE = `must be WIDTHxHEIGHT with even numbers, width ${SIZE_BOUNDS.minWidth}-${SIZE_BOUNDS.maxWidth}, height ${SIZE_BOUNDS.minHeight}-${SIZE_BOUNDS.maxHeight}`;

export function parseSize(value: string): FrameSize | null {
  const m = /^(\d{1,5})x(\d{1,5})$/.exec(value);
  if (!m) return null;
  const width = Number(m[1]);
  const height = Number(m[2]);
  const b = SIZE_BOUNDS;
  if (width % 2 !== 0 || height % 2 !== 0 || width < b.minWidth || width > b.maxWidth || height < b.minHeight || height > b.maxHeight) return null;
  return { width, height };
}

export const sizeText = parsedText((value): FrameSize => {
  const size = parseSize(value);
  if (!size) throw new FieldProblem(SIZE_RULE);
  return size;
});

export const sourceText = parsedText((value): SourceSpec => {
  try {
    return parseSource(value);
  } catch (err) {
    if (!(err instanceof SourceSyntaxError)) throw err;
    throw new FieldProblem(err.message);
  }
});

/** A room name, as the protocol allows it (the file's cameras and FRAMECAST_ROOM alike). */
export const roomText = v.pipe(v.string(), v.check((room: string) => isValidRoomName(room), `must be a valid room name: ${ROOM_NAME_RULE}`));
const int = (min: number, max: number) =>
  v.pipe(v.number('must be a number'), v.integer('must be an integer'), v.minValue(min, `must be >= ${min}`), v.maxValue(max, `must be <= ${max}`));

/** Bounds shared with the environment schema in config.ts. */
export const LIMITS = {
  fps: [1, 60],
  quality: [1, 100],
  stallTimeoutMs: [1000, 600_000],
} as const;

const defaultsShape = {
  size: v.optional(sizeText),
  fps: v.optional(int(...LIMITS.fps)),
  quality: v.optional(int(...LIMITS.quality)),
  stallTimeoutMs: v.optional(int(...LIMITS.stallTimeoutMs)),
  mjpegPassthrough: v.optional(v.boolean('must be true or false')),
};

/** What a strict object says: a key it does not know (a typo), a key it needs, or not an object at all. */
const objectProblem = (issue: v.StrictObjectIssue) =>
  issue.type === 'strict_object' && issue.expected === 'never' ? `Unrecognized key: ${JSON.stringify(issue.input)}` : issue.input === undefined && issue.path ? 'is required' : 'must be a mapping of settings (key: value)';

// Strict objects: a misspelled key (`fsp: 10`) is an error, not a silently ignored setting.
const cameraEntry = v.strictObject({ name: v.optional(roomText), room: roomText, source: sourceText, ...defaultsShape }, objectProblem);
const configFileSchema = v.strictObject(
  {
    defaults: v.optional(v.strictObject(defaultsShape, objectProblem)),
    cameras: v.pipe(v.array(cameraEntry, 'must be a list of cameras'), v.minLength(1, 'must list at least one camera'), v.maxLength(64, 'must list at most 64 cameras')),
  },
  objectProblem,
);

export type CameraFileEntry = v.InferInput<typeof cameraEntry>;

/**
 * Reads and validates a YAML camera list. Every problem becomes one ConfigError against
 * FRAMECAST_CONFIG whose text names the file, the camera (by position and room) and the field.
 */
export function camerasFromFile(path: string, defaults: CameraDefaults): CameraConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError('FRAMECAST_CONFIG', `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ConfigError('FRAMECAST_CONFIG', `${path}: not valid YAML: ${String((err as Error).message).split('\n')[0]}`);
  }
  return camerasFromDocument(doc, defaults, path);
}

/** Validates an already parsed config document (exported for tests). */
export function camerasFromDocument(doc: unknown, defaults: CameraDefaults, path = 'config'): CameraConfig[] {
  // A list at the top (the cameras without their `cameras:` key) would pass an object check.
  if (Array.isArray(doc)) throw new ConfigError('FRAMECAST_CONFIG', `${path}: must be a mapping with a cameras: list, not a list`);
  const result = v.safeParse(configFileSchema, doc ?? {}, { abortEarly: true });
  if (!result.success) {
    const issue = result.issues[0];
    // An unknown key's path ends in the key itself, which the message names already.
    const unknownKey = issue.expected === 'never';
    const keys = (issue.path ?? []).filter((item) => !(unknownKey && item.origin === 'key')).map((item) => item.key as PropertyKey);
    throw new ConfigError('FRAMECAST_CONFIG', `${path}: ${issueLocation(keys, doc)}${issue.message}`);
  }
  const fileDefaults = { ...defaults, ...stripUndefined(result.output.defaults ?? {}) };
  const cameras = result.output.cameras.map((c) => resolveCamera({ ...c, ...fileDefaults, ...stripUndefined(c) } as CameraInput));
  const seen = new Map<string, number>();
  cameras.forEach((c, i) => {
    for (const [what, key] of [
      ['room', `room:${c.room}`],
      ['name', `name:${c.name}`],
    ] as const) {
      const first = seen.get(key);
      if (first !== undefined) {
        throw new ConfigError('FRAMECAST_CONFIG', `${path}: cameras[${i}] (${c.name}): ${what} "${key.slice(what.length + 1)}" is already used by cameras[${first}]; each camera needs its own room and name`);
      }
      seen.set(key, i);
    }
  });
  return cameras;
}

type CameraInput = CameraDefaults & { name?: string | undefined; room: string; source: SourceSpec };

export function resolveCamera(c: CameraInput): CameraConfig {
  return {
    name: c.name ?? c.room,
    room: c.room,
    source: c.source,
    sourceText: describeSource(c.source),
    size: c.size,
    fps: c.fps,
    quality: c.quality,
    stallTimeoutMs: c.stallTimeoutMs,
    mjpegPassthrough: c.mjpegPassthrough,
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** "cameras[1] (garage): fps: " — the camera by position and, when readable, by room. */
function issueLocation(path: ReadonlyArray<PropertyKey>, doc: unknown): string {
  if (path.length === 0) return '';
  const parts: string[] = [];
  if (path[0] === 'cameras' && typeof path[1] === 'number') {
    const entry = (doc as { cameras?: Array<{ room?: unknown; name?: unknown }> }).cameras?.[path[1]];
    const label = typeof entry?.name === 'string' ? entry.name : typeof entry?.room === 'string' ? entry.room : null;
    parts.push(`cameras[${path[1]}]${label ? ` (${label})` : ''}`);
    if (path.length > 2) parts.push(path.slice(2).map(String).join('.'));
  } else {
    parts.push(path.map(String).join('.'));
  }
  return `${parts.join(': ')}: `;
}
