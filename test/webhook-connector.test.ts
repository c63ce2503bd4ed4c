/**
 * The webhook connector against a real local receiver (test/helpers/webhook-receiver.ts): signed grant and revoke
 * events with the documented payload, the signature check receivers use, the connector's own retries (same event
 * id), refusals, timeouts, a closed port, health, config validation, and that neither the secret nor the URL's
 * token reaches a log line or an error message.
 */
import assert from 'node:assert/strict';
import { freePort } from '../devstack/ports';
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ConnectorError, WrongIntegrationError } from '../connectors/errors';
import type { Connector, GrantRequest } from '../connectors/types';
import { createWebhookConnector } from '../connectors/webhook';
import { webhookIntegrationSchema, type WebhookIntegrationConfig } from '../connectors/webhook/config';
import {
  UnknownPermissionError,
  WebhookConfigError,
  WebhookRejectedError,
  WebhookUnavailableError,
} from '../connectors/webhook/errors';
import { signWebhook, verifyWebhookSignature } from '../connectors/webhook/signature';
import { startWebhookReceiver, type WebhookReceiver } from './helpers/webhook-receiver';

const SECRET = `whsec-${randomBytes(24).toString('hex')}`;
/** A token in the URL's path, as hosted receivers often have: as secret as the secret. */
const URL_TOKEN = randomBytes(12).toString('hex');
const INTEGRATION = 'ticketing';
const VERSION = (
  JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }
).version;

const grantReq = (account = 'alice', permission = 'deploy'): GrantRequest => ({
  target: { integration: INTEGRATION, account, permission },
  requestId: `req-${randomBytes(4).toString('hex')}`,
  expiresAt: new Date(Date.now() + 3_600_000),
  latestEnd: new Date(Date.now() + 3 * 3_600_000),
});

async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ConnectorError, `expected a ConnectorError, got ${String(err)}`);
    errors.push(err);
    return err;
  }
  assert.fail('expected the call to fail');
}

const errors: Error[] = [];

describe('webhook connector', () => {
  let receiver: WebhookReceiver;
  const logLines: string[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );

  function config(overrides: Record<string, unknown> = {}): WebhookIntegrationConfig {
    return webhookIntegrationSchema.parse({
      type: 'webhook',
      url: receiver.url,
      secret: SECRET,
      permissions: { deploy: { group: 'release-managers' }, read: null },
      timeout: '2s',
      headers: { 'x-tenant': 'acme' },
      ...overrides,
    });
  }
  const connector = (overrides: Record<string, unknown> = {}): Connector =>
    createWebhookConnector(INTEGRATION, config(overrides), { log });

  before(async () => {
    receiver = await startWebhookReceiver({ secret: SECRET, path: `/hooks/${URL_TOKEN}` });
  });
  beforeEach(() => receiver.reset());
  after(async () => {
    await receiver?.close();
  });

  it('grant POSTs a signed event with exactly the documented payload and headers', async () => {
    const request = grantReq();
    const before = Date.now();
    const result = await connector().grant(request);

    assert.equal(receiver.events.length, 1);
    const [event] = receiver.events;
    assert.deepEqual(Object.keys(event.body), [
      'id',
      'type',
      'integration',
      'requestId',
      'account',
      'permission',
      'expiresAt',
      'latestEnd',
      'sentAt',
    ]);
    assert.match(String(event.body.id), /^evt_[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...event.body, id: undefined, sentAt: undefined },
      {
        id: undefined,
        type: 'grant',
        integration: INTEGRATION,
        requestId: request.requestId,
        account: 'alice',
        permission: 'deploy',
        expiresAt: request.expiresAt.toISOString(),
        latestEnd: request.latestEnd?.toISOString(),
        sentAt: undefined,
      },
    );
    const sentAt = Date.parse(String(event.body.sentAt));
    assert.ok(sentAt >= before - 1 && sentAt <= Date.now(), 'sentAt is when it was sent');
    assert.equal(event.headers['content-type'], 'application/json');
    assert.equal(event.headers['user-agent'], `grantflow/${VERSION}`);
    assert.equal(event.headers['x-tenant'], 'acme');
    assert.equal(event.eventId, event.body.id);
    assert.ok(Math.abs(Number(event.timestamp) - Date.now() / 1000) < 5, 'timestamp is unix seconds, now');
    // Computed here independently of signWebhook: hex HMAC-SHA256 over "<timestamp>.<raw body>".
    const mac = createHmac('sha256', SECRET).update(`${event.timestamp}.${event.rawBody}`).digest('hex');
    assert.equal(event.signature, `v1=${mac}`);
    assert.deepEqual(result.details, { eventId: event.body.id, status: 200, attempts: 1 });
  });

  it('revoke POSTs a signed revoke event without expiresAt', async () => {
    const { target, requestId } = grantReq('bob', 'read');
    const result = await connector().revoke({ target, requestId });
    assert.deepEqual(result, { alreadyAbsent: false, sessionsTerminated: 0 });
    const [event] = receiver.events;
    assert.deepEqual(Object.keys(event.body), [
      'id',
      'type',
      'integration',
      'requestId',
      'account',
      'permission',
      'sentAt',
    ]);
    assert.equal(event.body.type, 'revoke');
    assert.equal(event.body.requestId, requestId);
    assert.equal(event.body.account, 'bob');
    assert.equal(event.body.permission, 'read');
    assert.equal(receiver.requests[0].verification.valid, true);
  });

  it('reports what the receiver says about repeated grants and revokes, when it answers in JSON', async () => {
    receiver.respondWith(200, '{"alreadyAbsent":true,"alreadyPresent":true}', 'application/json');
    const request = { ...grantReq(), latestEnd: undefined };
    assert.equal((await connector().grant(request)).details.alreadyPresent, true);
    assert.equal((await connector().revoke(request)).alreadyAbsent, true);
    assert.equal(receiver.events.length, 2);
    assert.equal(
      receiver.events[0].body.latestEnd,
      request.expiresAt.toISOString(),
      'latestEnd defaults to expiresAt',
    );
  });

  it('the verifier refuses a tampered body, a wrong secret, and stale or future timestamps', async () => {
    const body = '{"id":"evt_1","type":"grant"}';
    const now = Date.now();
    const timestamp = Math.floor(now / 1000);
    const signature = signWebhook(SECRET, timestamp, body);
    const verify = (changes: Partial<Parameters<typeof verifyWebhookSignature>[0]>) =>
      verifyWebhookSignature({ secret: SECRET, timestamp, body, signature, now, ...changes });

    assert.deepEqual(verify({}), { valid: true });
    assert.deepEqual(verify({ body: Buffer.from(body) }), { valid: true });
    assert.deepEqual(verify({ signature: `v1=${'0'.repeat(64)}, ${signature}` }), { valid: true });
    assert.deepEqual(verify({ body: body.replace('grant', 'revoke') }), { valid: false, reason: 'mismatch' });
    assert.deepEqual(verify({ secret: `${SECRET}x` }), { valid: false, reason: 'mismatch' });
    assert.deepEqual(verify({ signature: signature.slice(0, -2) }), { valid: false, reason: 'mismatch' });
    assert.deepEqual(verify({ now: now + 301_000 }), { valid: false, reason: 'stale' });
    assert.deepEqual(verify({ now: now - 301_000 }), { valid: false, reason: 'stale' });
    assert.deepEqual(verify({ now: now + 290_000 }), { valid: true });
    assert.deepEqual(verify({ now: now + 20_000, toleranceSeconds: 10 }), { valid: false, reason: 'stale' });
    assert.deepEqual(verify({ signature: undefined }), { valid: false, reason: 'missing' });
    assert.deepEqual(verify({ timestamp: 'yesterday' }), { valid: false, reason: 'malformed' });
    assert.deepEqual(verify({ signature: 'sha256=abc' }), { valid: false, reason: 'malformed' });

    // And the real receiver answers 401 to a correctly signed but stale event, and records no event.
    const old = timestamp - 600;
    const response = await fetch(receiver.url, {
      method: 'POST',
      body,
      headers: {
        'x-grantflow-timestamp': String(old),
        'x-grantflow-signature': signWebhook(SECRET, old, body),
      },
    });
    assert.equal(response.status, 401);
    assert.equal(await response.text(), 'bad signature (stale)');
    assert.equal(receiver.events.length, 0);
  });

  it('a connector with the wrong secret is refused with 401, non-retryable', async () => {
    const err = await rejection(connector({ secret: 'w'.repeat(40) }).grant(grantReq()));
    assert.ok(err instanceof WebhookRejectedError);
    assert.equal(err.status, 401);
    assert.equal(err.retryable, false);
    assert.equal(receiver.events.length, 0);
  });

  it('retries 500s quickly and succeeds, resending the same event id and body', async () => {
    receiver.failNext(2, 500);
    const started = Date.now();
    const result = await connector().grant(grantReq());
    assert.ok(Date.now() - started < 3_000, 'backoff is quick (200ms, 400ms)');
    assert.equal(result.details.attempts, 3);
    assert.deepEqual(
      receiver.requests.map((r) => r.status),
      [500, 500, 200],
    );
    const ids = new Set(receiver.requests.map((r) => r.headers['x-grantflow-event-id']));
    assert.equal(ids.size, 1);
    assert.equal(new Set(receiver.requests.map((r) => r.rawBody)).size, 1);
    assert.ok(receiver.requests.every((r) => r.verification.valid));
    assert.equal(receiver.events.length, 1);
    assert.equal(logLines.filter((l) => l.includes('webhook attempt failed')).length >= 2, true);
  });

  it('gives up after its retries with a retryable error naming the status', async () => {
    receiver.failNext(10, 503, 'maintenance');
    const err = await rejection(connector({ retries: 1 }).revoke(grantReq()));
    assert.ok(err instanceof WebhookUnavailableError);
    assert.equal(err.retryable, true);
    assert.equal(err.code, 'WEBHOOK_UNAVAILABLE');
    assert.equal(err.status, 503);
    assert.equal(err.attempts, 2);
    assert.match(err.message, /failed after 2 attempts: answered 503 Service Unavailable: "maintenance"/);
    assert.equal(receiver.requests.length, 2);
  });

  it('408 and 429 are retryable too', async () => {
    for (const status of [408, 429]) {
      receiver.reset();
      receiver.respondWith(status, 'slow down');
      const err = await rejection(connector({ retries: 0 }).grant(grantReq()));
      assert.ok(err instanceof WebhookUnavailableError);
      assert.equal(err.status, status);
      assert.equal(err.retryable, true);
    }
  });

  it('a 400 is non-retryable, sent once, with the status and a short, secret-free body', async () => {
    receiver.respondWith(400, `unknown account; your secret is ${SECRET}; ${'x'.repeat(1000)}`);
    const err = await rejection(connector().grant(grantReq()));
    assert.ok(err instanceof WebhookRejectedError);
    assert.equal(err.code, 'WEBHOOK_REJECTED');
    assert.equal(err.retryable, false);
    assert.equal(err.status, 400);
    assert.match(
      err.message,
      /answered 400 Bad Request: "unknown account; your secret is \[redacted\]; x+…"/,
    );
    assert.ok(err.message.length < 400, `message is short (${err.message.length})`);
    assert.equal(receiver.requests.length, 1);
  });

  it('a redirect is not followed and is non-retryable', async () => {
    receiver.respondWith(302, '');
    const err = await rejection(connector().revoke(grantReq()));
    assert.equal(err.retryable, false);
    assert.match(err.message, /answered 302 Found \(Grantflow does not follow redirects/);
    assert.equal(receiver.requests.length, 1, 'the redirect was not followed');
  });

  it('a hanging receiver times out quickly as retryable, each attempt with the same event id', async () => {
    receiver.hang();
    const started = Date.now();
    const err = await rejection(connector({ timeout: '300ms', retries: 1 }).grant(grantReq()));
    const took = Date.now() - started;
    assert.ok(took >= 600 && took < 2_000, `two 300ms attempts and a 200ms pause took ${took}ms`);
    assert.ok(err instanceof WebhookUnavailableError);
    assert.equal(err.kind, 'timeout');
    assert.equal(err.retryable, true);
    assert.match(err.message, /no answer within 300ms/);
    assert.equal(receiver.requests.length, 2);
    assert.equal(
      receiver.requests[0].headers['x-grantflow-event-id'],
      receiver.requests[1].headers['x-grantflow-event-id'],
    );
  });

  it('a closed port fails fast as retryable', async () => {
    const url = `http://127.0.0.1:${await freePort()}/hooks/${URL_TOKEN}`;
    const started = Date.now();
    const err = await rejection(connector({ url }).revoke(grantReq()));
    assert.ok(Date.now() - started < 2_000, 'refused connections are not waited for');
    assert.ok(err instanceof WebhookUnavailableError);
    assert.equal(err.kind, 'network');
    assert.equal(err.retryable, true);
    assert.match(err.message, /failed after 3 attempts: could not connect \(ECONNREFUSED\)/);
  });

  it('unknown permissions and other integrations are refused without sending anything', async () => {
    const err = await rejection(connector().grant(grantReq('alice', 'root')));
    assert.ok(err instanceof UnknownPermissionError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /has no permission "root" \(it has: deploy, read\)/);
    const request = grantReq();
    await assert.rejects(
      connector().revoke({ ...request, target: { ...request.target, integration: 'other' } }),
      WrongIntegrationError,
    );
    assert.equal(receiver.requests.length, 0);
  });

  it('shares no access, has no check, and lists nothing', async () => {
    const c = connector();
    assert.equal(c.type, 'webhook');
    assert.equal(c.sharesAccess, false);
    assert.equal(c.check, undefined);
    assert.deepEqual(await c.listAccess(), []);
    await c.close();
  });

  it('health: a signed ping answered 2xx is ok', async () => {
    const health = await connector().checkHealth();
    assert.equal(health.ok, true, health.message);
    assert.deepEqual(
      health.checks?.map((c) => [c.name, c.ok]),
      [
        ['config', true],
        ['ping', true],
      ],
    );
    assert.equal(receiver.events.length, 1);
    assert.equal(receiver.events[0].body.type, 'ping');
    assert.equal(receiver.events[0].body.integration, INTEGRATION);
  });

  it('health fails, without throwing, on a failing receiver, a wrong secret and a closed port', async () => {
    receiver.respondWith(503, 'down');
    const failing = await connector().checkHealth();
    assert.equal(failing.ok, false);
    assert.match(failing.message ?? '', /^ping: http:\/\/127\.0\.0\.1:\d+ answered 503/);
    assert.equal(receiver.requests.length, 1, 'health makes one attempt');

    receiver.reset();
    const wrongSecret = await connector({ secret: 'z'.repeat(32) }).checkHealth();
    assert.equal(wrongSecret.ok, false);
    assert.match(wrongSecret.message ?? '', /answered 401.*same secret/);

    const started = Date.now();
    const url = `http://127.0.0.1:${await freePort()}/`;
    const closed = await connector({ url }).checkHealth();
    assert.equal(closed.ok, false);
    assert.match(closed.message ?? '', /could not connect \(ECONNREFUSED\)/);
    assert.ok(Date.now() - started < 1_000, 'a closed port fails fast');
    errors.push(...[failing, wrongSecret, closed].map((h) => new Error(h.message)));
  });

  it('resolved values are checked: a short secret or a bad URL fails grant and health, naming the field', async () => {
    // As after `${ENV}` resolution: the schema let the references through, the resolved values are bad.
    const base = config({ secret: '${WEBHOOK_SECRET}', url: '${WEBHOOK_URL}' });
    const shortSecret = createWebhookConnector(
      INTEGRATION,
      { ...base, url: receiver.url, secret: 'short-secret' },
      { log },
    );
    const err = await rejection(shortSecret.grant(grantReq()));
    assert.ok(err instanceof WebhookConfigError);
    assert.equal(err.retryable, false);
    assert.match(err.message, /secret is 12 characters long; it must be at least 32 characters/);
    assert.ok(!err.message.includes('short-secret'));
    const health = await shortSecret.checkHealth();
    assert.equal(health.ok, false);
    assert.deepEqual(
      health.checks?.map((c) => c.name),
      ['config'],
    );

    const badUrl = createWebhookConnector(
      INTEGRATION,
      { ...base, url: 'ftp://files.example.com', secret: SECRET },
      { log },
    );
    assert.match(
      (await rejection(badUrl.revoke(grantReq()))).message,
      /url must be an https:\/\/ or http:\/\/ URL/,
    );
    const unresolved = createWebhookConnector(INTEGRATION, { ...base, url: receiver.url }, { log });
    assert.match(
      (await rejection(unresolved.grant(grantReq()))).message,
      /secret is still the unresolved reference/,
    );
    assert.equal(receiver.requests.length, 0);
  });

  it('config validation names the field, with clear messages', () => {
    const issues = (input: Record<string, unknown>) => {
      const parsed = webhookIntegrationSchema.safeParse({
        type: 'webhook',
        url: '${WEBHOOK_URL}',
        secret: '${WEBHOOK_SECRET}',
        permissions: { deploy: {} },
        ...input,
      });
      return parsed.success ? [] : parsed.error.issues.map((i) => [i.path.join('.'), i.message]);
    };
    const only = (input: Record<string, unknown>) => {
      const found = issues(input);
      assert.equal(found.length, 1, JSON.stringify(found));
      return found[0];
    };
    assert.deepEqual(issues({}), []);
    const [secretPath, secretMessage] = only({ secret: 'too-short' });
    assert.equal(secretPath, 'secret');
    assert.match(secretMessage, /at least 32 characters/);
    assert.ok(!secretMessage.includes('too-short'));
    assert.equal(only({ url: 'ftp://example.com/x' })[0], 'url');
    assert.match(only({ url: 'not a url' })[1], /https:\/\/ or http:\/\/ URL/);
    assert.deepEqual(only({ timeout: '5 parsecs' }), [
      'timeout',
      'must be a duration between 100ms and 30s, e.g. 5s',
    ]);
    assert.equal(only({ timeout: 5 })[0], 'timeout');
    assert.equal(only({ timeout: '2m' })[0], 'timeout');
    assert.match(only({ timeout: '20s', retries: 4 })[1], /one grant or revoke could take 103s/);
    assert.equal(only({ retries: 1.5 })[0], 'retries');
    assert.equal(only({ permissions: {} })[0], 'permissions');
    assert.equal(only({ headers: { 'user-agent': 'x' } })[0], 'headers.user-agent');
    assert.deepEqual(only({ headers: { Authorization: 'Bearer abc' } }), [
      'headers.Authorization',
      'carries a credential: give it as a ${ENV} or ${file:…} reference',
    ]);
    assert.deepEqual(issues({ headers: { Authorization: '${HOOK_AUTH}' } }), []);
    assert.equal(only({ checkUrl: 'https://x' })[0], '');

    const parsed = webhookIntegrationSchema.parse({
      type: 'webhook',
      url: 'https://hooks.example.com/grantflow',
      secret: '${WEBHOOK_SECRET}',
      permissions: { deploy: null, admin: { group: 'ops' } },
    });
    assert.equal(parsed.timeout, 10_000);
    assert.equal(parsed.retries, 2);
    assert.deepEqual(parsed.headers, {});
    assert.deepEqual(parsed.permissions, { deploy: {}, admin: { group: 'ops' } });
  });

  it('neither the secret nor the URL token appears in any log line or error message', () => {
    assert.ok(logLines.length > 5, 'the connector logged');
    assert.ok(errors.length > 10, 'errors were collected');
    const texts = [...logLines, ...errors.flatMap((e) => [e.message, String(e), JSON.stringify(e)])];
    for (const text of texts) {
      assert.ok(!text.includes(SECRET), `secret leaked: ${text}`);
      assert.ok(!text.includes(URL_TOKEN), `URL token leaked: ${text}`);
    }
  });
});
