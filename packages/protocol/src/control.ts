import { CLOSES, CloseCode, type CloseCodeValue, type ErrorName } from './close-codes.ts';
import { ENVELOPE_VERSION } from './envelope.ts';

/**
 * JSON control messages the gateway sends a viewer as websocket text frames. Binary frames are
 * always envelopes, so a client tells the two apart by frame type alone. Every message has a
 * `type` discriminator and the protocol version `v`.
 */
export interface HelloMessage {
  type: 'hello';
  v: typeof ENVELOPE_VERSION;
  room: string;
  server: {
    /** Gateway replica id (pod name or host). */
    id: string;
    version: string;
  };
  /** Bytes the gateway lets sit unsent for this viewer before it skips frames. */
  maxBufferedBytes: number;
  /** A viewer whose socket stays full this long is closed with CloseCode.Stalled. */
  stallTimeoutMs: number;
}

export interface ErrorMessage {
  type: 'error';
  v: typeof ENVELOPE_VERSION;
  /** The close code that follows, so clients can act on the message alone. */
  code: CloseCodeValue;
  error: ErrorName;
  message: string;
}

export type ControlMessage = HelloMessage | ErrorMessage;

export function helloMessage(fields: Omit<HelloMessage, 'type' | 'v'>): string {
  const msg: HelloMessage = { type: 'hello', v: ENVELOPE_VERSION, ...fields };
  return JSON.stringify(msg);
}

/** The error message sent right before a close; `message` adds detail to the row's reason. */
export function errorMessage(error: ErrorName, message: string = CLOSES[error].reason): string {
  const msg: ErrorMessage = { type: 'error', v: ENVELOPE_VERSION, code: CLOSES[error].code, error, message };
  return JSON.stringify(msg);
}

/** Parses a control message defensively (clients use it; it never throws). */
export function parseControlMessage(text: string): ControlMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const t = (value as { type?: unknown }).type;
  if (t === 'hello' || t === 'error') return value as ControlMessage;
  return null;
}

export { CloseCode };

/** The subprotocol a browser viewer offers; the gateway selects it. */
export const VIEWER_SUBPROTOCOL = 'framecast.v1';
/**
 * A viewer token offered as a second subprotocol, `framecast.token.<jwt>`, so it travels in the
 * `Sec-WebSocket-Protocol` header instead of the URL (JWTs use only token characters).
 */
export const TOKEN_SUBPROTOCOL_PREFIX = 'framecast.token.';
