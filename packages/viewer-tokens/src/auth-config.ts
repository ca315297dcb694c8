import { ConfigError, z } from '@framecast/config';
import { MIN_SECRET_BYTES } from './tokens.ts';

/**
 * The auth switch every service reads. Auth is on unless FRAMECAST_AUTH=off says otherwise, and a
 * service with auth on refuses to start without its secrets: forgetting a secret must never mean
 * "open to everyone".
 */
export const authEnvFields = {
  FRAMECAST_AUTH: z.enum(['on', 'off'], { message: 'must be on or off' }).default('on'),
  /** Shared HS256 secret: the registry signs viewer tokens with it, gateways verify them. */
  FRAMECAST_TOKEN_SECRET: z
    .string()
    .refine((s) => Buffer.byteLength(s) >= MIN_SECRET_BYTES, `must be at least ${MIN_SECRET_BYTES} bytes (e.g. openssl rand -hex 32)`)
    .optional(),
};

export interface AuthConfig {
  FRAMECAST_AUTH: 'on' | 'off';
}

/** Throws ConfigError naming `variable` when auth is on and the secret is not set. */
export function requireWhenAuthOn(config: AuthConfig, variable: string, value: string | undefined): void {
  if (config.FRAMECAST_AUTH === 'on' && !value) {
    throw new ConfigError(variable, 'is required while FRAMECAST_AUTH=on (set FRAMECAST_AUTH=off only for local use without auth)');
  }
}
