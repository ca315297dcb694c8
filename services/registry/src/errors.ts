/**
 * Every error the API answers with: a stable `error` code, its HTTP status, and (for 400s) the
 * `field` at fault. The README's error table lists the same codes; a test keeps them in step.
 */
export const API_ERRORS = {
  invalid_request: { status: 400, description: 'a body, path or query field breaks its schema; `field` names it' },
  invalid_json: { status: 400, description: 'the body is not JSON' },
  unauthorized: { status: 401, description: 'no admin or agent key was given' },
  forbidden: { status: 403, description: 'the key is wrong, or does not allow this room' },
  not_found: { status: 404, description: 'no such route' },
  room_not_found: { status: 404, description: 'no room of that name' },
  webhook_not_found: { status: 404, description: 'no webhook of that id' },
  agent_key_not_found: { status: 404, description: 'no agent key of that id' },
  room_exists: { status: 409, description: 'a room of that name exists already' },
  auth_disabled: { status: 409, description: 'tokens cannot be issued: the registry runs with FRAMECAST_AUTH=off' },
  room_has_camera: { status: 409, description: 'a capture agent reports a camera in this room: no publish token unless allowWithCamera is true' },
  payload_too_large: { status: 413, description: 'the body is over 64 KiB' },
  unsupported_media_type: { status: 415, description: 'the body is not application/json (charset, if given, utf-8)' },
  too_many_auth_failures: { status: 429, description: 'too many failed key checks from this address; retry after `retry-after` seconds' },
  internal: { status: 500, description: 'an unexpected failure (logged)' },
  store_unavailable: { status: 503, description: 'Redis cannot be reached; retry' },
  webhooks_disabled: { status: 503, description: 'webhooks need Redis: the in-memory registry has none' },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ApiErrorBody {
  error: ApiErrorCode;
  message: string;
  field?: string;
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  /** Extra response headers, such as `retry-after` on a 429. */
  readonly headers: Record<string, string> = {};
  readonly code: ApiErrorCode;
  readonly field?: string;

  constructor(code: ApiErrorCode, message: string, field?: string) {
    super(message);
    this.code = code;
    this.field = field;
    this.status = API_ERRORS[code].status;
  }

  toJSON(): ApiErrorBody {
    return this.field === undefined ? { error: this.code, message: this.message } : { error: this.code, message: this.message, field: this.field };
  }
}

export const roomNotFound = (room: string) => new ApiError('room_not_found', `no room named ${room}`);
