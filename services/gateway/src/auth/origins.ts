import type { IncomingMessage } from 'node:http';
import { FieldProblem, parsedText, v } from '@framecast/config';

/**
 * `FRAMECAST_ALLOWED_ORIGINS`: a comma-separated list of page origins (`https://cams.example.com`)
 * whose scripts may open viewer websockets. Unset: any origin. Each entry must be a bare origin
 * (scheme, host, optional port; no path), compared exactly as browsers send the `Origin` header.
 */
export const allowedOriginsField = v.optional(
  parsedText((text): string[] => {
    const origins: string[] = [];
    for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
      let url: URL | null = null;
      try {
        url = new URL(raw);
      } catch {
        // reported below
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.origin === 'null' || raw.replace(/\/$/, '') !== url.origin) {
        throw new FieldProblem(`${JSON.stringify(raw)} is not an origin like https://cams.example.com (scheme and host, no path)`);
      }
      origins.push(url.origin);
    }
    return origins;
  }),
);

/**
 * Whether a websocket upgrade may proceed. The Origin policy is for browsers, the clients that a
 * hostile page can drive: a request without `Origin` (ffmpeg, scripts, other servers) is not a
 * browser's and passes, and so does a page served by this very host (the built-in viewer page).
 */
export function originAllowed(req: IncomingMessage, allowed: readonly string[] | undefined): boolean {
  if (!allowed) return true;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
