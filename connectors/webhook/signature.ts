/**
 * Signing of webhook events, and its check for receivers written in Node. Self-contained (node:crypto only), so a
 * receiver can copy this file as is. Scheme `v1`: `x-grantflow-signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`
 * with `x-grantflow-timestamp: <unix seconds>`; the timestamp is signed so that a captured event cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The signature scheme's prefix in `x-grantflow-signature`. */
export const SIGNATURE_VERSION = 'v1';

/** How far (in seconds) a timestamp may be from the receiver's clock, either way, by default. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** The `x-grantflow-signature` value for a body sent at `timestamp` (unix seconds). */
export function signWebhook(secret: string, timestamp: number | string, body: string | Buffer): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
  return `${SIGNATURE_VERSION}=${mac}`;
}

export interface VerifyWebhookSignatureInput {
  /** The shared secret (the integration's `secret`). */
  secret: string;
  /** The `x-grantflow-timestamp` header. */
  timestamp: string | number | undefined;
  /** The raw request body, exactly as received (not re-serialized JSON). */
  body: string | Buffer;
  /** The `x-grantflow-signature` header; several comma-separated `v1=` values are accepted (any may match). */
  signature: string | undefined;
  /** Refuse timestamps further than this from `now`, older or newer. @default 300 */
  toleranceSeconds?: number;
  /** The receiver's clock. @default Date.now() */
  now?: Date | number;
}

export type VerifyWebhookSignatureResult =
  { valid: true } | { valid: false; reason: 'missing' | 'malformed' | 'stale' | 'mismatch' };

/** Checks an event's signature and timestamp in constant time; answer 401 unless `valid`. */
export function verifyWebhookSignature(input: VerifyWebhookSignatureInput): VerifyWebhookSignatureResult {
  const { secret, body, signature, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS } = input;
  if (input.timestamp === undefined || signature === undefined || signature === '') {
    return { valid: false, reason: 'missing' };
  }
  const timestamp = String(input.timestamp).trim();
  if (!/^\d{1,12}$/.test(timestamp)) return { valid: false, reason: 'malformed' };
  const nowMs = input.now === undefined ? Date.now() : Number(input.now);
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return { valid: false, reason: 'stale' };

  const expected = Buffer.from(signWebhook(secret, timestamp, body), 'utf8');
  let sawOne = false;
  let matched = false;
  for (const part of signature.split(',')) {
    const candidate = part.trim();
    if (!candidate.startsWith(`${SIGNATURE_VERSION}=`)) continue;
    sawOne = true;
    const given = Buffer.from(candidate, 'utf8');
    // Lengths are public (a hex SHA-256 is always 64 characters); only equal-length values are compared.
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!sawOne) return { valid: false, reason: 'malformed' };
  return matched ? { valid: true } : { valid: false, reason: 'mismatch' };
}
