/**
 * Config of a `type: webhook` integration. The schema runs on grantflow.yaml as written, where `url` and `secret`
 * are still `${ENV}` / `${file:…}` references; checkResolvedWebhookConfig checks their resolved values.
 */
import { z } from 'zod';
import { parseSecretRef } from '../../config/secrets';
import { parseDuration } from '../../policy/duration';

export const MIN_SECRET_LENGTH = 32;
/** Per-attempt timeout bounds, and how long one grant or revoke call may take in all (Grantflow gives it 60s). */
const MIN_TIMEOUT_MS = 100;
const MAX_TIMEOUT_MS = 30_000;
const MAX_CALL_MS = 50_000;
const MAX_RETRIES = 5;
/** Backoff between the connector's own attempts: 200ms, doubling, at most 1s. */
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 1_000;

/** How long to wait before retry number `retry` (1-based). */
export function retryDelayMs(retry: number): number {
  return Math.min(RETRY_BASE_MS * 2 ** (retry - 1), RETRY_MAX_MS);
}

const isReference = (value: string): boolean => parseSecretRef(value) !== undefined;

/** Why `value` is not a usable endpoint URL, or undefined when it is. Never repeats the value. */
export function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'is not a URL (expected e.g. https://hooks.example.com/grantflow)';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https:// or http:// URL';
  if (url.username || url.password)
    return 'must not contain a user name or password (put a token in the path or in `headers`)';
  return undefined;
}

const SECRET_MESSAGE =
  `must be at least ${MIN_SECRET_LENGTH} characters (the HMAC signing key; make one with ` +
  '`openssl rand -hex 32`), given as a ${ENV} or ${file:…} reference';

/** A timeout such as `5s` or `500ms`, in milliseconds. */
const timeout = z.unknown().transform((value, ctx) => {
  const ms = typeof value === 'string' ? parseDuration(value) : undefined;
  if (ms === undefined || ms < MIN_TIMEOUT_MS || ms > MAX_TIMEOUT_MS) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a duration between ${MIN_TIMEOUT_MS}ms and ${MAX_TIMEOUT_MS / 1000}s, e.g. 5s`,
    });
    return z.NEVER;
  }
  return ms;
});

/** Headers Grantflow sets itself, which config may not replace. */
const RESERVED_HEADER = /^(content-type|content-length|user-agent|host|x-grantflow-.*)$/i;
/** Headers whose value is a credential: like every secret in grantflow.yaml, given by reference only. */
const SECRET_HEADER = /^(authorization|proxy-authorization|cookie)$|token|secret|key|password/i;

const headers = z
  .record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'is not a valid header name'), z.string())
  .superRefine((map, ctx) => {
    for (const [name, value] of Object.entries(map)) {
      if (RESERVED_HEADER.test(name))
        ctx.addIssue({ code: 'custom', path: [name], message: 'is set by Grantflow and cannot be replaced' });
      else if (SECRET_HEADER.test(name) && !isReference(value))
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'carries a credential: give it as a ${ENV} or ${file:…} reference',
        });
    }
  });

/** Free-form labels of one permission, for people reading the config (e.g. `{ group: prod-admins }`). */
const labels = z
  .record(z.string(), z.string())
  .nullish()
  .transform((value) => value ?? {});

export const webhookIntegrationSchema = z
  .object({
    type: z.literal('webhook'),
    /** Where events are POSTed: an http(s) URL; a secret (it may carry a token), so a reference in grantflow.yaml. */
    url: z.string().refine((value) => isReference(value) || urlProblem(value) === undefined, {
      message: 'must be an https:// or http:// URL (or a ${ENV} reference to one)',
    }),
    /** The HMAC-SHA256 key events are signed with; a reference, at least 32 characters once resolved. */
    secret: z.string().refine((value) => isReference(value) || value.length >= MIN_SECRET_LENGTH, {
      message: SECRET_MESSAGE,
    }),
    /** Each permission a flow may request, with optional labels: `{ deploy: {}, admin: { group: ops } }`. */
    permissions: z
      .record(z.string().min(1), labels)
      .refine((map) => Object.keys(map).length > 0, { message: 'must list at least one permission' }),
    /** How long one attempt waits for the receiver's answer. @default 10s */
    timeout: timeout.default(10_000),
    /** Quick retries inside one grant or revoke call, on 5xx/408/429, network errors and timeouts. @default 2 */
    retries: z
      .number()
      .int('must be a whole number')
      .min(0, 'must be at least 0')
      .max(MAX_RETRIES, `must be at most ${MAX_RETRIES}`)
      .default(2),
    /** Extra, non-secret headers sent with every event (a credential header must be a reference). */
    headers: headers.default({}),
  })
  .strict()
  .superRefine((config, ctx) => {
    const worst = worstCaseCallMs(config.retries, config.timeout);
    if (worst > MAX_CALL_MS) {
      ctx.addIssue({
        code: 'custom',
        path: ['timeout'],
        message:
          `with ${config.retries} retries, one grant or revoke could take ${Math.ceil(worst / 1000)}s, more than ` +
          `the ${MAX_CALL_MS / 1000}s allowed: lower timeout or retries`,
      });
    }
  });

export type WebhookIntegrationConfig = z.infer<typeof webhookIntegrationSchema>;

/** The longest one call can take: every attempt timing out, plus the backoff between them. */
export function worstCaseCallMs(retries: number, timeoutMs: number): number {
  let total = (retries + 1) * timeoutMs;
  for (let retry = 1; retry <= retries; retry++) total += retryDelayMs(retry);
  return total;
}

/**
 * Checks the values that were references in grantflow.yaml, once resolved. Returns a message naming the field, or
 * undefined when usable. Never repeats a value.
 */
export function checkResolvedWebhookConfig(config: WebhookIntegrationConfig): string | undefined {
  for (const [field, value] of [
    ['url', config.url],
    ['secret', config.secret],
  ] as const) {
    if (isReference(value)) return `${field} is still the unresolved reference ${value}`;
  }
  const url = urlProblem(config.url);
  if (url) return `url ${url}`;
  if (config.secret.length < MIN_SECRET_LENGTH)
    return `secret is ${config.secret.length} characters long; it ${SECRET_MESSAGE}`;
  return undefined;
}
