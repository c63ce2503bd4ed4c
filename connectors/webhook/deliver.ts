/**
 * Delivery of one signed event to the receiver, with the connector's quick retries: Node's fetch, a timeout per
 * attempt, the same body and event id on every attempt, a fresh timestamp and signature each time. What the
 * receiver answers is reduced to a short, secret-free description.
 */
import type { Logger } from 'pino';
import { retryDelayMs } from './config';
import { type FailedAttempt } from './errors';
import { signWebhook } from './signature';

/** How much of a refusal's body goes into an error message. */
const SNIPPET_CHARS = 200;
/** How much of any response body is read at all. */
const READ_BYTES = 4_096;

export interface SenderOptions {
  url: string;
  secret: string;
  timeoutMs: number;
  headers: Record<string, string>;
  userAgent: string;
  log: Logger;
}

export type AttemptResult =
  | { ok: true; status: number; response: Record<string, unknown> | undefined }
  | { ok: false; failure: FailedAttempt };

export type SendResult =
  (AttemptResult & { ok: true; attempts: number }) | { ok: false; attempts: number; failure: FailedAttempt };

/** Sends `body` until the receiver takes it, it refuses it, or `retries` quick retries are used up. */
export async function send(
  options: SenderOptions,
  eventId: string,
  body: string,
  retries: number,
): Promise<SendResult> {
  for (let attempt = 1; ; attempt++) {
    const result = await attemptOnce(options, eventId, body);
    if (result.ok) return { ...result, attempts: attempt };
    const last = attempt > retries || !result.failure.retryable;
    options.log.warn(
      { eventId, attempt, of: retries + 1, error: result.failure.detail, willRetry: !last },
      'webhook attempt failed',
    );
    if (last) return { ok: false, attempts: attempt, failure: result.failure };
    await new Promise((resolve) => setTimeout(resolve, retryDelayMs(attempt)));
  }
}

/** One signed POST. Never throws: every failure is described, with whether trying again can help. */
export async function attemptOnce(
  options: SenderOptions,
  eventId: string,
  body: string,
): Promise<AttemptResult> {
  const timestamp = Math.floor(Date.now() / 1000);
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
      headers: {
        ...options.headers,
        'content-type': 'application/json',
        'user-agent': options.userAgent,
        'x-grantflow-timestamp': String(timestamp),
        'x-grantflow-signature': signWebhook(options.secret, timestamp, body),
        'x-grantflow-event-id': eventId,
      },
    });
  } catch (err) {
    return { ok: false, failure: describeFetchError(err, options.timeoutMs) };
  }
  const text = await readText(response);
  const { status } = response;
  if (status >= 200 && status < 300) return { ok: true, status, response: parseObject(response, text) };
  const retryable = status >= 500 || status === 408 || status === 429;
  const redirect = status >= 300 && status < 400;
  const snippet = sanitize(text, options);
  const detail =
    `answered ${status}${response.statusText ? ` ${response.statusText}` : ''}` +
    (redirect ? ' (Grantflow does not follow redirects: set url to the final address)' : '') +
    (snippet ? `: ${JSON.stringify(snippet)}` : '');
  return { ok: false, failure: { kind: 'status', status, detail, retryable } };
}

function describeFetchError(err: unknown, timeoutMs: number): FailedAttempt {
  const e = err as { name?: string; cause?: { code?: unknown; name?: unknown } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return { kind: 'timeout', detail: `no answer within ${timeoutMs}ms`, retryable: true };
  }
  // Only the error code: undici's messages can repeat the address, and the URL may carry a token.
  const code = e?.cause?.code ?? e?.cause?.name ?? e?.name ?? 'unknown error';
  return { kind: 'network', detail: `could not connect (${String(code)})`, retryable: true };
}

/** Reads at most READ_BYTES of the body; a body that fails to arrive counts as empty. */
async function readText(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < READ_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // a body cut off by the timeout or the receiver: what arrived is enough for a message
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, READ_BYTES).toString('utf8');
}

/** The answer as a JSON object, when the receiver sent one (it may say e.g. `{"alreadyAbsent": true}`). */
function parseObject(response: Response, text: string): Record<string, unknown> | undefined {
  if (!/json/i.test(response.headers.get('content-type') ?? '') || !text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** A receiver's answer, fit for a message: one line, at most SNIPPET_CHARS, without the secret or the URL. */
function sanitize(text: string, options: SenderOptions): string {
  let clean = text;
  for (const secret of [options.secret, options.url]) clean = clean.split(secret).join('[redacted]');
  // eslint-disable-next-line no-control-regex
  clean = clean.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
  return clean.length > SNIPPET_CHARS ? `${clean.slice(0, SNIPPET_CHARS)}…` : clean;
}
