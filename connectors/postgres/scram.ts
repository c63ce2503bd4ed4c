/**
 * SCRAM-SHA-256 verifiers (RFC 5802 / 7677, PostgreSQL's format): the server stores and receives only this, so a
 * temporary user's password never travels to PostgreSQL or lands in its statement log.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's default iteration count (scram_iterations). */
const ITERATIONS = 4096;

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` for a password (ASCII: SASLprep is the identity). */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = ITERATIONS): string {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** A strong password: 32 random bytes, base64url (43 characters, no quoting trouble anywhere). */
export function newPassword(): string {
  return randomBytes(32).toString('base64url');
}
