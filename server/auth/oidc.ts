/**
 * OpenID Connect login (authorization code + PKCE + state + nonce) with openid-client.
 * `GET /auth/login?returnTo=/…` sends the browser to the provider; `GET /auth/callback` exchanges the code,
 * maps the verified email to a Grantflow identity and starts a session.
 *
 * The pending login (state, nonce, PKCE verifier, returnTo) travels in a short-lived cookie signed with a key
 * derived from the client secret, so any replica can finish a login another one started, and nothing is kept
 * in memory.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import * as client from 'openid-client';
import type { AppContext } from '../../core/context';
import { GrantflowError } from '../../core/errors';
import { findIdentity } from '../../policy/snapshot';
import { LoginStateError, NoEmailError, OidcOffError, UnknownLoginError } from './errors';
import { appendCookie, cookieHeader, parseCookies, startSession } from './sessions';
import { secureCookies, type AuthSettings, type OidcSettings } from './settings';

const LOGIN_COOKIE = 'gf_login';
const LOGIN_TTL_SECONDS = 600;

/** What the login cookie carries between /auth/login and /auth/callback. */
interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  exp: number;
}

/** A same-origin relative path to return to after login; anything else becomes `/`. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/')) return '/';
  // `//host` and `/\host` are other origins to browsers; control characters could split headers.
  if (value.startsWith('//') || value.includes('\\') || [...value].some((c) => c.charCodeAt(0) < 0x20))
    return '/';
  return value;
}

function signingKey(oidc: OidcSettings): Buffer {
  return createHash('sha256').update(`grantflow login v1\0${oidc.clientSecret}`).digest();
}

function sign(oidc: OidcSettings, pending: PendingLogin): string {
  const body = Buffer.from(JSON.stringify(pending)).toString('base64url');
  return `${body}.${createHmac('sha256', signingKey(oidc)).update(body).digest('base64url')}`;
}

function verify(oidc: OidcSettings, value: string | undefined): PendingLogin {
  const [body, mac] = (value ?? '').split('.');
  if (!body || !mac)
    throw new LoginStateError('no login in progress in this browser; start again at /auth/login');
  const want = createHmac('sha256', signingKey(oidc)).update(body).digest();
  const got = Buffer.from(mac, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want))
    throw new LoginStateError('the login cookie is not valid; start again at /auth/login');
  const pending = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as PendingLogin;
  if (pending.exp < Date.now() / 1000) throw new LoginStateError('the login took too long; start again');
  return pending;
}

function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/** Discovers the provider once (again after a failure); plain http only for a provider on loopback. */
function discoverer(oidc: OidcSettings): () => Promise<client.Configuration> {
  let config: Promise<client.Configuration> | undefined;
  return () => {
    const issuer = new URL(oidc.issuer);
    const options =
      issuer.protocol === 'http:' && isLoopback(issuer) ? { execute: [client.allowInsecureRequests] } : {};
    config ??= client.discovery(issuer, oidc.clientId, oidc.clientSecret, undefined, options);
    config.catch(() => (config = undefined));
    return config;
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small HTML page for the browser: login failures end here, not in JSON. */
export function sendPage(reply: FastifyReply, status: number, title: string, text: string): FastifyReply {
  const html = `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title><h1>${escapeHtml(title)}</h1><p>${escapeHtml(text)}</p>`;
  return reply.code(status).type('text/html; charset=utf-8').send(html);
}

/** The verified email of the person who logged in: from the ID token, else from the userinfo endpoint. */
async function emailOf(
  config: client.Configuration,
  tokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers,
) {
  const claims = tokens.claims();
  if (!claims) throw new NoEmailError('the provider sent no ID token');
  let email = claims.email;
  let verified = claims.email_verified;
  if (typeof email !== 'string') {
    const info = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
    email = info.email;
    verified = info.email_verified;
  }
  if (typeof email !== 'string' || !email)
    throw new NoEmailError('the provider did not say your email (scope email)');
  if (verified === false) throw new NoEmailError(`the provider has not verified ${email}`);
  const authTime = typeof claims.auth_time === 'number' ? claims.auth_time : claims.iat;
  return { email, authTime: new Date(authTime * 1000) };
}

/** Registers /auth/login and /auth/callback. */
export function registerOidc(server: FastifyInstance, ctx: AppContext, settings: AuthSettings): void {
  const oidc = settings.oidc;
  const discover = oidc ? discoverer(oidc) : undefined;
  const secure = secureCookies(settings);
  const redirectUri = `${settings.publicUrl}/auth/callback`;
  const clearLogin = (reply: FastifyReply) =>
    appendCookie(reply, cookieHeader(LOGIN_COOKIE, '', { maxAgeSeconds: 0, secure, path: '/auth' }));

  server.get('/auth/login', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!oidc || !discover) return sendPage(reply, 404, 'Login is off', new OidcOffError().message);
    const returnTo = safeReturnTo((req.query as Record<string, unknown>).returnTo);
    const pending: PendingLogin = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier: client.randomPKCECodeVerifier(),
      returnTo,
      exp: Math.floor(Date.now() / 1000) + LOGIN_TTL_SECONDS,
    };
    // Step-up (a decision on a flow that needs a recent login): the provider must authenticate again.
    const stepUp = (req.query as Record<string, unknown>).stepUp === '1';
    const url = client.buildAuthorizationUrl(await discover(), {
      redirect_uri: redirectUri,
      scope: 'openid email',
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await client.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      ...(stepUp ? { prompt: 'login', max_age: '0' } : {}),
    });
    const cookie = sign(oidc, pending);
    appendCookie(
      reply,
      cookieHeader(LOGIN_COOKIE, cookie, { maxAgeSeconds: LOGIN_TTL_SECONDS, secure, path: '/auth' }),
    );
    return reply.redirect(url.href, 302);
  });

  server.get('/auth/callback', async (req: FastifyRequest, reply: FastifyReply) => {
    if (!oidc || !discover) return sendPage(reply, 404, 'Login is off', new OidcOffError().message);
    clearLogin(reply);
    try {
      const pending = verify(oidc, parseCookies(req.headers.cookie)[LOGIN_COOKIE]);
      const query = req.query as Record<string, unknown>;
      if (query.state !== pending.state)
        throw new LoginStateError('the login state does not match; start again');
      const config = await discover();
      const tokens = await client.authorizationCodeGrant(config, new URL(req.url, settings.publicUrl), {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const { email, authTime } = await emailOf(config, tokens);
      const identity = findIdentity(ctx.config(), email);
      if (!identity) throw new UnknownLoginError(email);
      await startSession(ctx.store, reply, { email: identity.email, authTime, secure });
      return reply.redirect(pending.returnTo, 302);
    } catch (err) {
      return loginFailed(req, reply, err);
    }
  });
}

function loginFailed(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof UnknownLoginError)
    return sendPage(
      reply,
      403,
      'Not a Grantflow user',
      `${err.email} is not an identity in Grantflow; ask an admin.`,
    );
  if (err instanceof GrantflowError) return sendPage(reply, err.httpStatus, 'Login failed', err.message);
  // The provider refused the code, or the ID token did not validate: the browser can only start again.
  const message = err instanceof Error ? err.message : String(err);
  req.log.warn({ err: message }, 'OpenID Connect login failed');
  const fromProvider =
    err instanceof client.AuthorizationResponseError || err instanceof client.ResponseBodyError;
  return sendPage(
    reply,
    fromProvider ? 400 : 502,
    'Login failed',
    'The login could not be completed; start again.',
  );
}
