/**
 * Login sessions: a random id in the `gf_session` cookie (HttpOnly, SameSite=Lax, Secure on https), of which
 * the database keeps only the SHA-256, with the session's CSRF token and expiry. Sessions live 12 hours.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store, SessionRow } from '../../store/types';

/** The session cookie's name. */
export const SESSION_COOKIE = 'gf_session';
/** How long a session lasts, from login (not sliding). */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** last_seen_at is a hint for people: one write a minute per session is plenty. */
const TOUCH_EVERY_MS = 60_000;
const COOKIE_VALUE = /^[A-Za-z0-9_-]{43}$/;

/** Per-request cache, so the CSRF check and callerOf read the session once. */
const seen = new WeakMap<FastifyRequest, SessionRow | null>();

/** SHA-256 hex of a cookie value: what the store keeps. */
export function hashSessionId(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/** The cookies of a request, by name (first one wins, as browsers send the most specific first). */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in out) continue;
    try {
      out[name] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // A malformed value is ignored like a missing one.
    }
  }
  return out;
}

/** A Set-Cookie value with Grantflow's attributes. */
export function cookieHeader(
  name: string,
  value: string,
  o: { maxAgeSeconds: number; secure: boolean; path?: string },
): string {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${o.path ?? '/'}`,
    `Max-Age=${o.maxAgeSeconds}`,
  ];
  parts.push('HttpOnly', 'SameSite=Lax');
  if (o.secure) parts.push('Secure');
  return parts.join('; ');
}

/** Adds a Set-Cookie without dropping ones set earlier in the same reply. */
export function appendCookie(reply: FastifyReply, cookie: string): void {
  const prior = reply.getHeader('set-cookie');
  const list = prior === undefined ? [] : Array.isArray(prior) ? prior.map(String) : [String(prior)];
  reply.header('set-cookie', [...list, cookie]);
}

/** Starts a session for `email` and sets its cookie; returns the stored row. */
export async function startSession(
  store: Store,
  reply: FastifyReply,
  o: { email: string; authTime: Date; secure: boolean; now?: Date },
): Promise<SessionRow> {
  const now = o.now ?? new Date();
  const value = randomBytes(32).toString('base64url');
  const row: SessionRow = {
    idHash: hashSessionId(value),
    email: o.email,
    csrfToken: randomBytes(32).toString('base64url'),
    authTime: o.authTime.toISOString(),
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + SESSION_TTL_MS).toISOString(),
    lastSeenAt: now.toISOString(),
  };
  await store.createSession(row);
  appendCookie(
    reply,
    cookieHeader(SESSION_COOKIE, value, { maxAgeSeconds: SESSION_TTL_MS / 1000, secure: o.secure }),
  );
  return row;
}

/**
 * The live session the request's cookie names, or undefined (no cookie, unknown, or expired — an expired one
 * is deleted).
 */
export async function sessionOf(store: Store, req: FastifyRequest): Promise<SessionRow | undefined> {
  const cached = seen.get(req);
  if (cached !== undefined) return cached ?? undefined;
  const value = parseCookies(req.headers.cookie)[SESSION_COOKIE];
  let session: SessionRow | undefined;
  if (value && COOKIE_VALUE.test(value)) {
    const now = new Date();
    const found = await store.findSession(hashSessionId(value));
    if (found && Date.parse(found.expiresAt) <= now.getTime()) await store.deleteSession(found.idHash);
    else if (found) {
      session = found;
      const last = found.lastSeenAt ? Date.parse(found.lastSeenAt) : 0;
      if (now.getTime() - last >= TOUCH_EVERY_MS) await store.touchSession(found.idHash, now);
    }
  }
  seen.set(req, session ?? null);
  return session;
}

/** Ends the request's session (if any) and clears its cookie. */
export async function endSession(
  store: Store,
  req: FastifyRequest,
  reply: FastifyReply,
  secure: boolean,
): Promise<void> {
  const session = await sessionOf(store, req);
  if (session) await store.deleteSession(session.idHash);
  seen.set(req, null);
  appendCookie(reply, cookieHeader(SESSION_COOKIE, '', { maxAgeSeconds: 0, secure }));
}
