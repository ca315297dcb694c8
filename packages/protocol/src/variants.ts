import { isValidRoomName } from './rooms.ts';
import { ViewerOptionError } from './viewer-options.ts';

/**
 * Smaller renditions of a room's video, made on demand. A capture agent publishes a variant of a
 * camera on its own stream, `<room>~<variant>` (channel `video_<room>~small`, last-frame key
 * `video_<room>~small:last`), but only while some gateway is subscribed to that channel (it asks
 * Redis with PUBSUB NUMSUB every few seconds), so a camera nobody watches in a grid costs no
 * second encode. Viewers, MJPEG and snapshot clients ask with `?variant=small`.
 *
 * `~` cannot occur in a room name, so a stream name is never mistaken for a room.
 */
export const VARIANTS = {
  /** Grid tiles and thumbnails: at most 320 px wide, at most 2 frames a second. */
  small: { maxWidth: 320, maxFps: 2, quality: 70 },
} as const;

export type VariantName = keyof typeof VARIANTS;
export const VARIANT_NAMES = Object.keys(VARIANTS) as VariantName[];
export const VARIANT_SEPARATOR = '~';

function isVariantName(text: string): text is VariantName {
  return Object.hasOwn(VARIANTS, text);
}

/** `?variant=` as given: null when absent (the room's own frames). Throws ViewerOptionError for an unknown one. */
export function parseVariant(text: string | null | undefined): VariantName | null {
  if (text === null || text === undefined || text === '') return null;
  if (!isVariantName(text)) throw new ViewerOptionError('variant', `unknown variant ${JSON.stringify(text.slice(0, 20))}: known variants are ${VARIANT_NAMES.join(', ')}`);
  return text;
}

/** The stream a viewer of `room` receives: the room itself, or `<room>~<variant>`. */
export function streamName(room: string, variant: VariantName | null = null): string {
  return variant === null ? room : `${room}${VARIANT_SEPARATOR}${variant}`;
}

/** A stream name split into its room and variant; null when it is neither a room nor a known variant of one. */
export function parseStream(stream: string): { room: string; variant: VariantName | null } | null {
  const at = stream.indexOf(VARIANT_SEPARATOR);
  if (at === -1) return isValidRoomName(stream) ? { room: stream, variant: null } : null;
  const room = stream.slice(0, at);
  const variant = stream.slice(at + 1);
  return isValidRoomName(room) && isVariantName(variant) ? { room, variant } : null;
}

export function isValidStreamName(stream: unknown): stream is string {
  return typeof stream === 'string' && parseStream(stream) !== null;
}
