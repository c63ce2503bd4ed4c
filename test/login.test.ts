/**
 * Browser login against a real OpenID provider (oidc-provider on loopback): the whole authorization code +
 * PKCE flow over HTTP with manual redirects and cookies, the session cookie on /api/v1 with its CSRF token,
 * logout, a tampered state, an unknown email, and dev login on and off.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { createMetrics } from '../core/metrics';
import { freePort } from '../devstack/ports';
import { openStore } from '../store';
import { startApiServer, type ApiServer } from '../server/start';
import { createHarness, type Harness } from './helpers/harness';
import { startProvider } from './helpers/oidc-provider';
import { getTestPostgres } from './setup/postgres';
import { testLog } from './setup/stack';

/** The parts of API answers the tests look at. */
interface Answer {
  email?: string;
  admin?: boolean;
  devLogin?: boolean;
  csrfToken?: string;
  error?: { code: string };
  request?: { id: string; requester: string };
}

/** Cookies per origin, as a browser would keep them (paths and expiry simplified). */
class Jar {
  private readonly cookies = new Map<string, Map<string, string>>();

  header(url: URL): string {
    return [...(this.cookies.get(url.origin) ?? new Map<string, string>())]
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
  }

  take(url: URL, res: Response): void {
    const jar = this.cookies.get(url.origin) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const gone = attrs.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a));
      if (gone || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(url.origin, jar);
  }
}

describe('browser login (OpenID Connect, sessions, CSRF, dev login)', function () {
  this.timeout(120_000);
  let h: Harness;
  let api: ApiServer;
  let devApi: ApiServer;
  let idp: http.Server;
  let nextLogin = 'alice@example.com';

  before(async () => {
    h = await createHarness();
    const idpPort = await freePort();
    const apiPort = await freePort();
    const issuer = `http://127.0.0.1:${idpPort}`;
    const publicUrl = `http://127.0.0.1:${apiPort}`;
    idp = await startProvider(issuer, idpPort, publicUrl, () => nextLogin);
    const common = { ctx: h.ctx, metrics: createMetrics(), log: testLog, host: '127.0.0.1' };
    api = await startApiServer({
      ...common,
      port: apiPort,
      authSettings: { publicUrl, oidc: { issuer, clientId: 'grantflow', clientSecret: 'test-secret' } },
    });
    devApi = await startApiServer({
      ...common,
      port: 0,
      devLogin: true,
      authSettings: { publicUrl: 'http://127.0.0.1' },
    });
  });
  after(async () => {
    await api?.close();
    await devApi?.close();
    await new Promise((resolve) => idp?.close(resolve));
    await h?.close();
  });

  /** Fetches with the jar's cookies and no automatic redirects. */
  async function get(jar: Jar, href: string, init: RequestInit = {}) {
    const url = new URL(href);
    const headers = new Headers(init.headers);
    const cookie = jar.header(url);
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    jar.take(url, res);
    return { res, text: await res.text(), url };
  }

  /** Follows redirects from `href` until the browser is sent to Grantflow's /auth/callback; returns that URL. */
  async function toCallback(jar: Jar, href: string): Promise<URL> {
    let next = new URL(href);
    for (let i = 0; i < 20; i++) {
      const { res, text } = await get(jar, next.href);
      const location = res.headers.get('location');
      assert.ok(location, `expected a redirect from ${next.href}, got ${res.status}: ${text.slice(0, 300)}`);
      next = new URL(location, next);
      if (next.pathname === '/auth/callback') return next;
    }
    throw new Error('too many redirects');
  }

  async function login(jar: Jar, returnTo = '/portal/requests?x=1') {
    const callback = await toCallback(jar, `${api.url}/auth/login?returnTo=${encodeURIComponent(returnTo)}`);
    return get(jar, callback.href);
  }

  async function json(
    jar: Jar,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) {
    const { res, text } = await get(jar, `${api.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (text ? JSON.parse(text) : {}) as Answer };
  }

  it('logs alice in through the provider, then the API knows her and checks CSRF; logout ends it', async () => {
    const jar = new Jar();
    nextLogin = 'alice@example.com';
    const done = await login(jar);
    assert.equal(done.res.status, 302, done.text);
    assert.equal(done.res.headers.get('location'), '/portal/requests?x=1');
    const cookie = done.res.headers.getSetCookie().find((c) => c.startsWith('gf_session='));
    assert.match(cookie ?? '', /HttpOnly/);
    assert.match(cookie ?? '', /SameSite=Lax/);
    assert.match(cookie ?? '', /Max-Age=43200/);
    assert.doesNotMatch(cookie ?? '', /Secure/); // the public URL is http
    assert.equal(done.res.headers.get('x-grantflow-dev-login'), null);

    const me = await json(jar, 'GET', '/api/v1/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.email, 'alice@example.com');
    const authMe = await json(jar, 'GET', '/auth/me');
    assert.equal(authMe.body.email, 'alice@example.com');
    assert.equal(authMe.body.admin, false);
    assert.equal(authMe.body.devLogin, false);
    const csrf = String(authMe.body.csrfToken);
    assert.ok(csrf.length >= 32);
    const stored = await h.store.knex('sessions').where('email', 'alice@example.com').first();
    assert.ok(stored && !JSON.stringify(stored).includes(String(cookie).split(';')[0]!.slice(11)));

    const body = { flow: 'approved-write', resource: 'db', permission: 'readwrite', reason: 'portal' };
    const noToken = await json(jar, 'POST', '/api/v1/requests', body);
    assert.equal(noToken.status, 403);
    assert.equal(noToken.body.error?.code, 'csrf');
    const wrong = await json(jar, 'POST', '/api/v1/requests', body, { 'x-csrf-token': 'x'.repeat(43) });
    assert.equal(wrong.status, 403);
    const made = await json(jar, 'POST', '/api/v1/requests', body, { 'x-csrf-token': csrf });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.body.request?.requester, 'alice@example.com');
    const id = String(made.body.request?.id);
    assert.equal(
      (await json(jar, 'POST', `/api/v1/requests/${id}/cancel`, {}, { 'x-csrf-token': csrf })).status,
      200,
    );

    assert.equal((await json(jar, 'POST', '/auth/logout', undefined, {})).status, 403); // logout needs it too
    assert.equal((await json(jar, 'POST', '/auth/logout', undefined, { 'x-csrf-token': csrf })).status, 204);
    assert.equal(await h.store.knex('sessions').where('email', 'alice@example.com').first(), undefined);
    const old = String(cookie).split(';')[0]!;
    const after = await fetch(`${api.url}/api/v1/me`, { headers: { cookie: old } });
    assert.equal(after.status, 401);
  });

  it('refuses a callback whose state was tampered with', async () => {
    const jar = new Jar();
    nextLogin = 'alice@example.com';
    const callback = await toCallback(jar, `${api.url}/auth/login?returnTo=/`);
    callback.searchParams.set('state', 'tampered');
    const res = await get(jar, callback.href);
    assert.equal(res.res.status, 400, res.text);
    assert.equal(res.res.headers.getSetCookie().filter((c) => c.startsWith('gf_session=')).length, 0);
  });

  it('refuses someone the provider knows but Grantflow does not, naming the email', async () => {
    const jar = new Jar();
    nextLogin = 'mallory@example.com';
    const res = await login(jar, '/');
    assert.equal(res.res.status, 403);
    assert.match(res.text, /mallory@example\.com/);
    assert.equal(res.res.headers.getSetCookie().filter((c) => c.startsWith('gf_session=')).length, 0);
  });

  it('only returns to same-origin relative paths', async () => {
    const jar = new Jar();
    nextLogin = 'alice@example.com';
    const done = await login(jar, '//evil.example/x');
    assert.equal(done.res.status, 302);
    assert.equal(done.res.headers.get('location'), '/');
  });

  it('dev login: on logs in as anyone and says so; off is 404', async () => {
    const listed = await fetch(`${devApi.url}/auth/dev`);
    assert.equal(listed.headers.get('x-grantflow-dev-login'), 'on');
    const ids = (await listed.json()) as { identities: { email: string }[] };
    assert.ok(ids.identities.some((i) => i.email === 'bob@example.com'));
    const res = await fetch(`${devApi.url}/auth/dev`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bob@example.com' }),
    });
    assert.equal(res.status, 200);
    const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!;
    const me = await fetch(`${devApi.url}/auth/me`, { headers: { cookie } });
    const meBody = (await me.json()) as Record<string, unknown>;
    assert.equal(meBody.email, 'bob@example.com');
    assert.equal(meBody.devLogin, true);
    assert.equal(typeof meBody.csrfToken, 'string');
    const apiMe = await fetch(`${devApi.url}/api/v1/me`, { headers: { cookie } });
    assert.equal(((await apiMe.json()) as { email: string }).email, 'bob@example.com');
    // Another server on the same database (a replica, or after a restart) knows the session too.
    const replica = await fetch(`${api.url}/api/v1/me`, { headers: { cookie } });
    assert.equal(((await replica.json()) as { email: string }).email, 'bob@example.com');
    const unknown = await fetch(`${devApi.url}/auth/dev`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'mallory@example.com' }),
    });
    assert.equal(unknown.status, 403);

    assert.equal((await fetch(`${api.url}/auth/dev`)).status, 404);
    const post = await fetch(`${api.url}/auth/dev`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'bob@example.com' }),
    });
    assert.equal(post.status, 404);
  });
});

describe('sessions in PostgreSQL', function () {
  this.timeout(120_000);

  it('stores only the hash, finds, touches and deletes a session', async () => {
    const url = await (await getTestPostgres()).createDatabase(`sess${Date.now() % 100000}`);
    const store = await openStore({ databaseUrl: url });
    try {
      await store.migrate();
      const row = {
        idHash: 'a'.repeat(64),
        email: 'alice@example.com',
        csrfToken: 'csrf',
        authTime: '2026-11-26T10:00:00.000Z',
        createdAt: '2026-11-26T10:00:01.000Z',
        expiresAt: '2026-11-26T22:00:01.000Z',
      };
      await store.createSession(row);
      assert.deepEqual(await store.findSession(row.idHash), row);
      await store.touchSession(row.idHash, new Date('2026-11-26T11:00:00.000Z'));
      await store.touchSession(row.idHash, new Date('2026-11-26T10:30:00.000Z')); // never backwards
      assert.equal((await store.findSession(row.idHash))?.lastSeenAt, '2026-11-26T11:00:00.000Z');
      await store.deleteSession(row.idHash);
      assert.equal(await store.findSession(row.idHash), undefined);
    } finally {
      await store.close();
    }
  });
});
