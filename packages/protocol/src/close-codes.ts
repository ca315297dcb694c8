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
  /** The gateway is overloaded; reconnect after a backoff. */
  TryAgainLater: 1013,
  /** The room name in the URL breaks the room-name rule. Permanent. */
  InvalidRoom: 4400,
  /** A token is needed and was missing or invalid. Permanent until the client has a token. */
  Unauthorized: 4401,
  /** The token is valid but does not grant this room. Permanent. */
  Forbidden: 4403,
  /** The viewer stopped reading: its socket stayed full past the stall timeout. Transient. */
  Stalled: 4508,
} as const;

export type CloseCodeName = keyof typeof CloseCode;
export type CloseCodeValue = (typeof CloseCode)[CloseCodeName];

export const CLOSE_REASONS: Record<CloseCodeValue, string> = {
  [CloseCode.Normal]: 'normal closure',
  [CloseCode.GoingAway]: 'gateway going away',
  [CloseCode.MessageTooBig]: 'message too big',
  [CloseCode.ServiceRestart]: 'gateway restarting, reconnect',
  [CloseCode.TryAgainLater]: 'gateway overloaded, try again later',
  [CloseCode.InvalidRoom]: 'invalid room name',
  [CloseCode.Unauthorized]: 'unauthorized',
  [CloseCode.Forbidden]: 'forbidden for this room',
  [CloseCode.Stalled]: 'viewer stalled: not reading frames',
};

/** Whether a client seeing this close code should reconnect (with backoff). */
export function shouldReconnect(code: number): boolean {
  if (code >= 4000 && code < 4500) return false;
  if (code >= 4500 && code < 5000) return true;
  return code !== CloseCode.Normal && code !== CloseCode.MessageTooBig;
}
