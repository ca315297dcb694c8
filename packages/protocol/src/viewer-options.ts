import { ENVELOPE_VERSION } from './envelope.ts';
import type { PublishDropReason } from './publish.ts';

/**
 * What a viewer may choose for itself: a frame-rate cap. It is given in the URL (`?fps=N` on the
 * websocket and the MJPEG stream) or, on the websocket, changed later with the one message a
 * viewer may send: `{"type":"options","fps":N}` (`null` lifts the cap). The gateway thins for that
 * viewer only, always sending the newest frame, so a grid of many rooms on a phone costs the
 * phone (and the network) only what it shows.
 */
export const FPS_CAP_MIN = 0.1;
export const FPS_CAP_MAX = 60;

/** The largest message a viewer may send; a bigger one closes the connection with 1009. */
export const VIEWER_MESSAGE_MAX_BYTES = 4096;

/** The options in effect, as the gateway confirms them after a viewer's `options` message. */
export interface OptionsMessage {
  type: 'options';
  v: typeof ENVELOPE_VERSION;
  /** Frames per second at most; null: every frame. */
  fps: number | null;
}

/**
 * A viewer message the gateway did not apply, or (to a publisher) frames it dropped; the
 * connection stays open either way.
 */
export interface RejectedMessage {
  type: 'rejected';
  v: typeof ENVELOPE_VERSION;
  error: 'bad_message';
  message: string;
  /** To publishers only: frames dropped since the previous note, by reason (notes go out at most once a second). */
  dropped?: Partial<Record<PublishDropReason, number>>;
}

export class ViewerOptionError extends Error {
  /** The query parameter or message field at fault. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'ViewerOptionError';
    this.field = field;
  }
}

const FPS_TEXT = /^\d{1,2}(\.\d{1,3})?$/;

/** `?fps=` as given (null: absent, no cap). Throws ViewerOptionError outside FPS_CAP_MIN..FPS_CAP_MAX. */
export function parseFpsCap(text: string | null | undefined): number | null {
  if (text === null || text === undefined || text === '') return null;
  const fps = Number(text);
  if (!FPS_TEXT.test(text) || !(fps >= FPS_CAP_MIN && fps <= FPS_CAP_MAX)) {
    throw new ViewerOptionError('fps', `fps must be a number from ${FPS_CAP_MIN} to ${FPS_CAP_MAX} (got ${JSON.stringify(text.slice(0, 20))})`);
  }
  return fps;
}

/**
 * The one message a viewer may send, parsed defensively: `{"type":"options","fps":N|null}`.
 * Throws ViewerOptionError naming what is wrong; unknown fields are refused so a typo is not
 * silently ignored.
 */
export function parseViewerMessage(text: string): { fps: number | null } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ViewerOptionError('message', 'not JSON: viewers may send {"type":"options","fps":N}');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ViewerOptionError('message', 'not a JSON object');
  const msg = value as Record<string, unknown>;
  if (msg.type !== 'options') throw new ViewerOptionError('type', `unknown message type ${JSON.stringify(msg.type)}: viewers may send only "options"`);
  for (const key of Object.keys(msg)) {
    if (key !== 'type' && key !== 'v' && key !== 'fps') throw new ViewerOptionError(key, `unknown field ${JSON.stringify(key)}`);
  }
  if (msg.fps === null || msg.fps === undefined) return { fps: null };
  if (typeof msg.fps !== 'number' || !(msg.fps >= FPS_CAP_MIN && msg.fps <= FPS_CAP_MAX)) {
    throw new ViewerOptionError('fps', `fps must be a number from ${FPS_CAP_MIN} to ${FPS_CAP_MAX}, or null`);
  }
  return { fps: msg.fps };
}

export function optionsMessage(fps: number | null): string {
  const msg: OptionsMessage = { type: 'options', v: ENVELOPE_VERSION, fps };
  return JSON.stringify(msg);
}

export function rejectedMessage(message: string, dropped?: Partial<Record<PublishDropReason, number>>): string {
  const msg: RejectedMessage = dropped ? { type: 'rejected', v: ENVELOPE_VERSION, error: 'bad_message', message, dropped } : { type: 'rejected', v: ENVELOPE_VERSION, error: 'bad_message', message };
  return JSON.stringify(msg);
}
