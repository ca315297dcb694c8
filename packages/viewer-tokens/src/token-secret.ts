import { v } from '@framecast/config';
import { MIN_SECRET_BYTES } from './tokens.ts';

/**
 * The token secret, for the services that sign or verify viewer tokens (registry, gateway). The
 * FRAMECAST_AUTH switch that decides whether it is required is @framecast/config's
 * `authEnvFields` / `requireWhenAuthOn`.
 */
export const tokenSecretEnvFields = {
  /** Shared HS256 secret: the registry signs viewer tokens with it, gateways verify them. */
  FRAMECAST_TOKEN_SECRET: v.optional(
    v.pipe(
      v.string(),
      v.check((s) => Buffer.byteLength(s) >= MIN_SECRET_BYTES, `must be at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -hex 32)`),
    ),
  ),
};
