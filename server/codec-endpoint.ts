/**
 * The remote codec endpoint, for the Temporal Web UI and `temporal --codec-endpoint`: Temporal's codec server
 * protocol, POST …/decode and …/encode under /codec (only the last path segment counts, so
 * `/codec/{namespace}/decode` works too) with a proto3-JSON `{"payloads":[{"metadata":{k: base64},"data": base64}]}`
 * body, answered in the same shape. An open decode endpoint would undo the encryption, so only Grantflow admins may
 * call it: an API token (`Authorization: Bearer`) or a portal session cookie. Browsers may call it from the Web
 * UI's origin only (CORS with credentials). Every call is counted and logged, never with its content.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Payload } from '@temporalio/common';
import { Counter } from 'prom-client';
import { z, ZodError } from 'zod';
import { EncryptionCodec, isEncrypted } from '../core/codec';
import type { AppContext } from '../core/context';
import { GrantflowError } from '../core/errors';
import { DecryptionError, keyringFromEnv, type Keyring } from '../core/keyring';
import type { Metrics } from '../core/metrics';
import { callerOf, requireAdmin, type Caller } from './api/access';
import { sendError } from './api/errors';

// ---- Errors of this module ------------------------------------------------------------------------------------
// UnauthenticatedError (401) and ForbiddenError (403, not an admin) come from server/api; a body that does not parse
// answers 400 invalid_input (ZodError) and one over the size limit 413 (Fastify).

/** A browser call from an origin other than the Web UI's (or the API server's own). */
export class CodecOriginError extends GrantflowError {
  constructor(origin: string) {
    super(`the codec endpoint does not answer pages from ${origin}`, 'origin_not_allowed', 403, 9);
  }
}

/** A payload could not be decoded (unknown key id, altered ciphertext): the protocol answers 400. */
export class PayloadDecodeError extends GrantflowError {
  constructor(message: string) {
    super(message, 'decode_failed', 400, 1);
  }
}

/** GRANTFLOW_ENCRYPTION_KEYS is not set, so there is nothing to encode or decode with. */
export class EncryptionOffError extends GrantflowError {
  constructor() {
    super('payload encryption is off: GRANTFLOW_ENCRYPTION_KEYS is not set', 'encryption_off', 503, 2);
  }
}

/** Not /codec/…/encode or /codec/…/decode. */
export class CodecRouteError extends GrantflowError {
  constructor() {
    super('the codec endpoint answers …/encode and …/decode only', 'not_found', 404, 4);
  }
}

// ---- The endpoint ---------------------------------------------------------------------------------------------

/** Payloads are at most 2 MB each by Temporal's default limit; the Web UI sends one event's payloads per call. */
export const CODEC_BODY_LIMIT = 4 * 1024 * 1024;
const MAX_PAYLOADS = 1000;
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization, authorization-extras';
const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'must be base64');
const payloadsBody = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() }))
    .max(MAX_PAYLOADS),
});
type JsonPayload = z.infer<typeof payloadsBody>['payloads'][number];

export interface CodecEndpointOptions {
  ctx: AppContext;
  /** @default GRANTFLOW_ENCRYPTION_KEYS (without keys every call answers 503 encryption_off) */
  keyring?: Keyring;
  /**
   * Web UI URLs (or origins) whose pages may call the endpoint with credentials; unset ones are skipped. A
   * loopback origin allows its twins too (localhost, 127.0.0.1, [::1] on the same port).
   */
  allowedOrigins: (string | undefined)[];
  /** Counts calls in grantflow_codec_requests_total{operation, outcome}. */
  metrics?: Metrics;
}

/** Registers POST and OPTIONS /codec/* on `app`. */
export function registerCodecEndpoint(app: FastifyInstance, options: CodecEndpointOptions): void {
  const { ctx } = options;
  const log = ctx.log.child({ component: 'codec' });
  const keyring = options.keyring ?? keyringFromEnv();
  const codec = keyring ? new EncryptionCodec(keyring) : undefined;
  const origins = allowedOriginSet(options.allowedOrigins, (value) =>
    log.warn({ value }, 'not a URL: the codec endpoint does not allow it as an origin'),
  );
  const calls = options.metrics && codecCounter(options.metrics);

  app.options('/codec/*', async (req, reply) => {
    const origin = req.headers.origin;
    if (!origin || !origins.has(origin)) return reply.code(403).send();
    corsHeaders(reply, origin);
    reply.header('access-control-allow-methods', 'POST, OPTIONS');
    reply.header('access-control-allow-headers', ALLOWED_HEADERS);
    reply.header('access-control-max-age', '600');
    if (req.headers['access-control-request-private-network'] === 'true')
      reply.header('access-control-allow-private-network', 'true');
    return reply.code(204).send();
  });

  // Answered in preValidation, before the session CSRF check (a preHandler): encode and decode change nothing, and a
  // browser cannot read the answer from a page outside `origins`, so a forged call gains nothing. The Web UI cannot
  // send Grantflow's x-csrf-token.
  const handle = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const operation = req.url.split('?')[0]?.split('/').filter(Boolean).pop() ?? '';
    const origin = req.headers.origin;
    if (origin && origins.has(origin)) corsHeaders(reply, origin);
    let caller: Caller | undefined;
    let count = 0;
    try {
      if (operation !== 'decode' && operation !== 'encode') throw new CodecRouteError();
      if (origin && !origins.has(origin) && !sameOrigin(origin, req.headers.host))
        throw new CodecOriginError(origin);
      caller = await callerOf(ctx, req);
      requireAdmin(caller);
      if (!codec) throw new EncryptionOffError();
      const { payloads } = payloadsBody.parse(req.body);
      count = payloads.length;
      const input = payloads.map(fromJson);
      const output = operation === 'decode' ? await decodeAll(codec, input) : await codec.encode(input);
      calls?.inc({ operation, outcome: 'ok' });
      log.info(
        {
          operation,
          caller: caller.identity.email,
          via: caller.actor.channel,
          namespace: String(req.headers['x-namespace'] ?? '').slice(0, 100) || undefined,
          payloads: count,
          encrypted: operation === 'decode' ? input.filter(isEncrypted).length : undefined,
        },
        `codec ${operation}`,
      );
      return reply.code(200).send({ payloads: output.map(toJson) });
    } catch (err) {
      const code =
        err instanceof GrantflowError ? err.code : err instanceof ZodError ? 'invalid_input' : 'internal';
      calls?.inc({
        operation: operation === 'encode' || operation === 'decode' ? operation : 'other',
        outcome: code,
      });
      const refusal = { operation, caller: caller?.identity.email, origin, payloads: count, code };
      if (err instanceof GrantflowError && err.httpStatus === 403)
        log.warn(refusal, `codec ${operation} refused`);
      else log.info(refusal, `codec ${operation} refused`);
      return sendError(reply, err);
    }
  };
  app.route({
    method: 'POST',
    url: '/codec/*',
    bodyLimit: CODEC_BODY_LIMIT,
    preValidation: handle,
    handler: handle,
  });
}

const COUNTER = 'grantflow_codec_requests_total';

/** The call counter, made once per registry (several servers may share one in tests). */
function codecCounter(metrics: Metrics): Counter<'operation' | 'outcome'> {
  const existing = metrics.registry.getSingleMetric(COUNTER);
  if (existing) return existing as Counter<'operation' | 'outcome'>;
  return new Counter({
    name: COUNTER,
    help: 'Calls of the remote codec endpoint (/codec), by operation and outcome',
    labelNames: ['operation', 'outcome'],
    registers: [metrics.registry],
  });
}

async function decodeAll(codec: EncryptionCodec, payloads: Payload[]): Promise<Payload[]> {
  try {
    return await codec.decode(payloads);
  } catch (err) {
    if (err instanceof DecryptionError) throw new PayloadDecodeError(err.message);
    throw err;
  }
}

function fromJson(p: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(p.metadata ?? {})) metadata[key] = Buffer.from(value, 'base64');
  return { metadata, data: Buffer.from(p.data ?? '', 'base64') };
}

function toJson(p: Payload): { metadata: Record<string, string>; data: string } {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(p.metadata ?? {}))
    metadata[key] = Buffer.from(value ?? new Uint8Array()).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? new Uint8Array()).toString('base64') };
}

function corsHeaders(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-allow-credentials', 'true');
  reply.header('vary', 'Origin');
}

/** A page of the API server itself (the portal) sends its own origin. */
function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** The origins of the given URLs, with the loopback twins of loopback ones. */
export function allowedOriginSet(
  urls: (string | undefined)[],
  onInvalid?: (value: string) => void,
): Set<string> {
  const out = new Set<string>();
  for (const value of urls) {
    if (!value) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      onInvalid?.(value);
      continue;
    }
    out.add(url.origin);
    if (LOOPBACK.includes(url.hostname)) {
      const port = url.port ? `:${url.port}` : '';
      for (const host of LOOPBACK) out.add(`${url.protocol}//${host}${port}`);
    }
  }
  return out;
}
