/**
 * API tokens: what scripts send as `Authorization: Bearer` to act as one identity. A token is shown once
 * when issued; the store keeps only its SHA-256, so neither a database copy nor `tokens list` reveals it.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { findIdentity } from '../policy/snapshot';
import type { Store } from '../store/types';
import type { AppContext } from './context';
import { TokenNotFoundError, UnknownIdentityError } from './errors';

const TOKEN_PREFIX = 'gft_';
/** 32 random bytes in base64url, without padding. */
const TOKEN_BODY = /^[A-Za-z0-9_-]{43}$/;
const ID_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** last_used_at is a hint for people, not an access log: one write a minute per token is plenty. */
const TOUCH_EVERY_MS = 60_000;

/** SHA-256 hex of a token: what the store keeps and looks tokens up by. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function newTokenId(): string {
  const bytes = randomBytes(12);
  let out = '';
  // 256 is a multiple of 32, so every character is equally likely.
  for (const b of bytes) out += ID_ALPHABET[b % 32];
  return `tok_${out}`;
}

/** What issueToken needs: the store and the config in force. */
export type TokenContext = Pick<AppContext, 'store' | 'config'>;

/** What to issue: the identity the token acts as, an optional label, and who asked for it. */
export interface IssueTokenInput {
  email: string;
  name?: string;
  createdBy: string;
}

/**
 * Issues a token acting as `email`, which must be an identity in the config. The returned token is the
 * only copy: it is not stored and cannot be shown again.
 */
export async function issueToken(
  ctx: TokenContext,
  o: IssueTokenInput,
): Promise<{ id: string; token: string }> {
  const identity = findIdentity(ctx.config(), o.email);
  if (!identity) throw new UnknownIdentityError(o.email);
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const id = newTokenId();
  await ctx.store.createApiToken({
    id,
    tokenHash: hashToken(token),
    email: identity.email,
    ...(o.name !== undefined ? { name: o.name } : {}),
    createdBy: o.createdBy,
    createdAt: new Date().toISOString(),
  });
  return { id, token };
}

/**
 * The identity a presented token acts as, or undefined when it is malformed, unknown or revoked. The
 * caller still checks that the identity is in the config in force.
 */
export async function authenticateToken(
  store: Store,
  token: string,
  now: Date = new Date(),
): Promise<{ email: string; tokenId: string } | undefined> {
  if (!token.startsWith(TOKEN_PREFIX) || !TOKEN_BODY.test(token.slice(TOKEN_PREFIX.length))) return undefined;
  const hash = hashToken(token);
  const row = await store.findApiTokenByHash(hash);
  // The lookup matched on the hash already; the constant-time compare guards against a store (or collation)
  // that matches loosely, without leaking how much of the hash agreed.
  if (!row || !sameHash(row.tokenHash, hash)) return undefined;
  if (row.revokedAt !== undefined) return undefined;
  const lastUsed = row.lastUsedAt === undefined ? 0 : Date.parse(row.lastUsedAt);
  if (now.getTime() - lastUsed >= TOUCH_EVERY_MS) await store.touchApiToken(row.id, now);
  return { email: row.email, tokenId: row.id };
}

/** Revokes a token at once; throws TokenNotFoundError when there is no such token or it is revoked already. */
export async function revokeToken(store: Store, id: string, at: Date = new Date()): Promise<void> {
  if (!(await store.revokeApiToken(id, at))) throw new TokenNotFoundError(id);
}
