import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

function encode(bytes: Buffer, length: number): string {
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i] % 32];
  return out;
}

/** A new request id: short enough to type, random enough never to collide (`req_` + 16 chars, 80 bits). */
export function newRequestId(): string {
  return `req_${encode(randomBytes(16), 16)}`;
}

/** The request id for an idempotency key: the same key from the same person always names the same request. */
export function requestIdForKey(requester: string, key: string): string {
  const digest = createHash('sha256').update(`${requester.toLowerCase()}\u0000${key}`).digest();
  return `req_${encode(digest, 16)}`;
}
