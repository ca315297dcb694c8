import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv, type ErrorObject } from 'ajv';
import type { FastifyError, FastifyInstance, FastifyPluginAsync } from 'fastify';
import { classifyRedisError, RedisProblemLog, type RedisProblem } from '@framecast/redis';
import type { ApiContext } from './context.ts';
import { ApiError } from './errors.ts';
import { registerAgentRoutes } from './routes/agents.ts';
import { registerPresenceRoutes } from './routes/presence.ts';
import { registerRoomRoutes } from './routes/rooms.ts';
import { registerTokenRoutes } from './routes/tokens.ts';
import { registerWebhookRoutes } from './routes/webhooks.ts';

export type TypedApp = ReturnType<typeof typed>;
const typed = (app: FastifyInstance) => app.withTypeProvider<TypeBoxTypeProvider>();

/** Bodies are small JSON documents; anything larger is a mistake or an attack. */
export const API_BODY_LIMIT = 64 * 1024;

/**
 * The registry's REST API as a fastify plugin, registered under `/api` by the standalone server
 * and by the embedded runner (on the gateway's server). It brings its own validator so the host's
 * ajv settings do not matter: unknown fields are errors (fastify's default would strip them) and
 * nothing is coerced ("5" is not a number).
 */
export function registryApi(ctx: ApiContext): FastifyPluginAsync {
  return async (app) => {
    // verbose: errors carry their schema, so a pattern failure can quote the rule instead of the regex.
    const ajv = new Ajv({ removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false, strict: false, verbose: true });
    app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'framecast registry',
          version: '0.1.0',
          description: 'Rooms, cameras, presence, viewer tokens and webhooks. Errors are JSON: {error, message, field?}.',
        },
        // Relative: the document is served by the registry it describes (standalone, or embedded
        // on the gateway's server), and the paths carry the /api prefix themselves.
        servers: [{ url: '/', description: 'the registry (or embedded runner) serving this document' }],
        components: {
          securitySchemes: {
            adminKey: { type: 'http', scheme: 'bearer', description: 'FRAMECAST_ADMIN_KEY' },
            agentKey: { type: 'http', scheme: 'bearer', description: 'an agent key from POST /api/agent-keys' },
          },
        },
      },
    });
    app.addHook('onRoute', (route) => {
      route.bodyLimit ??= API_BODY_LIMIT;
    });
    // Bodies are JSON and nothing else: fastify's own parsers (JSON for any charset, text/plain as a
    // string) are dropped in this plugin only, so the host server (the gateway, embedded) keeps its.
    // Any other type, or another charset, is a 415 before the body is read.
    app.removeAllContentTypeParsers();
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      if (!isAcceptedJsonType(req.headers['content-type'])) return done(unsupportedMediaType(req.headers['content-type']), undefined);
      parseJson(req, body as string, done);
    });
    // Redis problems are answered 503 and logged once per episode without a stack (a full Redis
    // fails every heartbeat); only unexpected failures are logged per request, with their stack.
    const storeProblems = new RedisProblemLog(ctx.logger, { what: 'registry store' });
    app.setErrorHandler((err: FastifyError, req, reply) => {
      const body = toApiError(err, ctx, req.headers['content-type']);
      if (body.status >= 500 && body.code === 'internal') ctx.logger.error({ err }, 'request failed');
      else if (body.code === 'store_unavailable' && !(err instanceof ApiError)) storeProblems.report(err, { route: req.routeOptions.url });
      return reply.code(body.status).headers(body.headers).send(body.toJSON());
    });
    app.setNotFoundHandler((req, reply) => reply.code(404).send(new ApiError('not_found', `no route ${req.method} ${req.url.split('?')[0]}`).toJSON()));
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

    const t = typed(app);
    registerRoomRoutes(t, ctx);
    registerPresenceRoutes(t, ctx);
    registerTokenRoutes(t, ctx);
    registerAgentRoutes(t, ctx);
    registerWebhookRoutes(t, ctx);
  };
}

function toApiError(err: FastifyError, ctx: ApiContext, contentType: string | undefined): ApiError {
  if (err instanceof ApiError) return err;
  if (err.validation && err.validation.length > 0) return validationError(err.validationContext ?? 'body', err.validation[0] as ErrorObject);
  switch (err.statusCode) {
    case 413:
      return new ApiError('payload_too_large', `the body is over ${API_BODY_LIMIT} bytes`, 'body');
    case 415:
      return unsupportedMediaType(contentType);
    case 400:
      return new ApiError('invalid_json', `the body is not valid JSON: ${err.message}`, 'body');
  }
  const problem = classifyRedisError(err);
  if (problem) return storeUnavailable(problem);
  if (!ctx.storeReady()) return new ApiError('store_unavailable', 'the registry cannot reach Redis; retry shortly');
  return new ApiError('internal', 'internal error');
}

/** A 503 naming what Redis did: "Redis refuses writes: OOM command not allowed when used memory > 'maxmemory'." */
function storeUnavailable(problem: RedisProblem): ApiError {
  switch (problem.reason) {
    case 'oom':
    case 'readonly':
    case 'misconf':
      return new ApiError('store_unavailable', `Redis refuses writes: ${problem.detail}`);
    case 'unreachable':
      return new ApiError('store_unavailable', 'the registry cannot reach Redis; retry shortly');
    default:
      return new ApiError('store_unavailable', `${problem.summary}; retry shortly`);
  }
}

/** One ajv error -> `{field, message}` with the field as a caller would write it (`cameras[0].room`). */
export function validationError(context: string, e: ErrorObject): ApiError {
  const path = e.instancePath.split('/').filter(Boolean);
  let problem = e.message ?? 'is not valid';
  if (e.keyword === 'additionalProperties') {
    path.push(String((e.params as { additionalProperty: string }).additionalProperty));
    problem = 'is not a known field';
  } else if (e.keyword === 'required') {
    path.push(String((e.params as { missingProperty: string }).missingProperty));
    problem = 'is required';
  } else if (e.keyword === 'pattern' && typeof (e.parentSchema as { description?: unknown } | undefined)?.description === 'string') {
    problem = `must be ${(e.parentSchema as { description: string }).description}`;
  }
  const field = path.length === 0 ? context : path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
  const where = context === 'querystring' ? 'query ' : context === 'params' ? 'path ' : '';
  return new ApiError('invalid_request', `${where}${field} ${problem}`, field);
}

/**
 * `application/json`, optionally with `charset=utf-8` (case-insensitive, quoted or not), and no
 * other parameter: JSON is UTF-8 (RFC 8259), and a body declared otherwise would be misread.
 */
export function isAcceptedJsonType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(';').map((p) => p.trim());
  if (type!.toLowerCase() !== 'application/json') return false;
  return params.every((p) => {
    const eq = p.indexOf('=');
    if (eq === -1) return p === '';
    const name = p.slice(0, eq).trim().toLowerCase();
    const value = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    return name === 'charset' && value === 'utf-8';
  });
}

function unsupportedMediaType(contentType: string | undefined): ApiError {
  const got = contentType === undefined ? 'no content-type' : `content-type ${JSON.stringify(contentType.slice(0, 100))}`;
  return new ApiError('unsupported_media_type', `the body must be application/json (optionally with charset=utf-8); got ${got}`, 'body');
}
