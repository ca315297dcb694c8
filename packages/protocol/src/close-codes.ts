/**
 * Websocket close codes the gateway uses, as data. The range tells a client what to do:
 *
 *   1000–1999  standard codes (RFC 6455); 1001, 1012 and 1013 mean "reconnect"
 *   4000–4499  permanent: the request itself is wrong; do not reconnect without changing it
 *   4500–4999  transient: reconnect with backoff
 *
 * The numeric code is also the `code` label of the gateway's closed-viewers metric.
 */
export const CloseCode = {
  /** Normal closure. */
  Normal: 1000,
  /** The gateway is going away for good (not a restart). Reconnect elsewhere. */
  GoingAway: 1001,
  /** The client sent something the gateway does not accept (e.g. an oversized message). */
  MessageTooBig: 1009,
  /** The gateway is restarting or shutting down; reconnect at once, to any replica. */
  ServiceRestart: 1012,
  /** The gateway cannot take the viewer now (at capacity, or not ready); reconnect after a backoff. */
  TryAgainLater: 1013,
  /** The room name in the URL breaks the room-name rule. Permanent. */
  InvalidRoom: 4400,
  /** A query parameter is out of range (`?fps=`). Permanent until the URL changes. */
  BadRequest: 4400,
  /** A token is needed and was missing, invalid or expired. Permanent until the client has a token. */
  Unauthorized: 4401,
  /** The token is valid but does not grant this room, or the page's origin is not allowed. Permanent. */
  Forbidden: 4403,
  /** Another publisher is live in this room (one publisher per room). Permanent: retry by hand. */
  RoomBusy: 4409,
  /** The viewer did not answer the gateway's ping (pong) within a ping interval: its network vanished. Transient. */
  NotResponding: 4504,
  /** The viewer stopped reading: its socket stayed full past the stall timeout. Transient. */
  Stalled: 4508,
} as const;

export type CloseCodeName = keyof typeof CloseCode;
export type CloseCodeValue = (typeof CloseCode)[CloseCodeName];

export interface CloseSpec {
  code: CloseCodeValue;
  /** The close frame's reason text (≤ 123 bytes, so it fits a close frame). */
  reason: string;
  /** Whether a client should reconnect (with backoff) after this close. */
  reconnect: boolean;
}

/**
 * Every way the gateway refuses or closes a viewer (or a browser publisher), keyed by the `error` name of the control
 * message that precedes the close. A close always goes through this table, so the code, the
 * error name, the reason text and the reconnect advice can never disagree (a 1013 that says
 * "overloaded" while the gateway is merely starting was the bug this table ends).
 */
export const CLOSES = {
  invalid_room: { code: CloseCode.InvalidRoom, reason: 'invalid room name', reconnect: false },
  bad_request: { code: CloseCode.BadRequest, reason: 'bad request: a query parameter is out of range', reconnect: false },
  unauthorized: { code: CloseCode.Unauthorized, reason: 'a valid viewer token is required', reconnect: false },
  token_expired: { code: CloseCode.Unauthorized, reason: 'viewer token expired', reconnect: false },
  room_private: { code: CloseCode.Unauthorized, reason: 'this room is private: a viewer token is required', reconnect: false },
  forbidden: { code: CloseCode.Forbidden, reason: 'this token does not open this room', reconnect: false },
  origin_forbidden: { code: CloseCode.Forbidden, reason: 'websocket connections from this origin are not allowed', reconnect: false },
  message_too_big: { code: CloseCode.MessageTooBig, reason: 'message too big', reconnect: false },
  publish_unauthorized: { code: CloseCode.Unauthorized, reason: 'a valid publish token for this room is required', reconnect: false },
  publish_token_expired: { code: CloseCode.Unauthorized, reason: 'publish token expired', reconnect: false },
  room_busy: { code: CloseCode.RoomBusy, reason: 'another publisher is live in this room', reconnect: false },
  stalled: { code: CloseCode.Stalled, reason: 'viewer stalled: not reading frames', reconnect: true },
  not_responding: { code: CloseCode.NotResponding, reason: 'viewer not answering pings', reconnect: true },
  shutting_down: { code: CloseCode.ServiceRestart, reason: 'gateway restarting, reconnect', reconnect: true },
  overloaded: { code: CloseCode.TryAgainLater, reason: 'gateway at its viewer limit, try again later', reconnect: true },
  not_ready: { code: CloseCode.TryAgainLater, reason: 'room access cannot be checked yet, try again', reconnect: true },
} as const satisfies Record<string, CloseSpec>;

/** The `error` field of an error control message: which row of CLOSES applies. */
export type ErrorName = keyof typeof CLOSES;

/** The reason text that goes with each code when no row is more specific (library-initiated closes). */
export const CLOSE_REASONS: Record<CloseCodeValue, string> = {
  [CloseCode.Normal]: 'normal closure',
  [CloseCode.GoingAway]: 'gateway going away',
  [CloseCode.MessageTooBig]: CLOSES.message_too_big.reason,
  [CloseCode.ServiceRestart]: CLOSES.shutting_down.reason,
  [CloseCode.TryAgainLater]: 'try again later',
  [CloseCode.InvalidRoom]: CLOSES.invalid_room.reason,
  [CloseCode.Unauthorized]: 'unauthorized',
  [CloseCode.Forbidden]: 'forbidden',
  [CloseCode.RoomBusy]: CLOSES.room_busy.reason,
  [CloseCode.NotResponding]: CLOSES.not_responding.reason,
  [CloseCode.Stalled]: CLOSES.stalled.reason,
};

/** Whether a client seeing this close code should reconnect (with backoff). */
export function shouldReconnect(code: number): boolean {
  if (code >= 4000 && code < 4500) return false;
  if (code >= 4500 && code < 5000) return true;
  return code !== CloseCode.Normal && code !== CloseCode.MessageTooBig;
}
