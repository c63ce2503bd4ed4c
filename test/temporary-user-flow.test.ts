/**
 * A temporary-user grant end to end: a request through the HTTP API makes a PostgreSQL login role for it; its
 * sign-in reaches the requester alone (GET …/credentials, audited; not approvers, not admins, never in workflow
 * history — decoded with the payload codec — nor in the worker's log); it works for a new session; on revoke the
 * live session is killed, the role is gone, the sign-in is forgotten, and the audit says the revoke was verified.
 */
import assert from 'node:assert/strict';
import { Client as PgClient } from 'pg';
import { EncryptionCodec } from '../core/codec';
import { createKeyring, newKeySpec, parseKeys } from '../core/keyring';
import { createMetrics } from '../core/metrics';
import { issueToken } from '../core/tokens';
import { startApiServer, type ApiServer } from '../server/start';
import { workflowIdFor } from '../workflows/definitions';
import { createHarness, type Harness } from './helpers/harness';
import { testLog } from './setup/stack';
import { tapLogger } from './helpers/capture-log';

describe('temporary-user grant through the workflow and the API', function () {
  this.timeout(120_000);
  const keySpec = newKeySpec('t1');
  const priorKeys = process.env.GRANTFLOW_ENCRYPTION_KEYS;
  let h: Harness;
  let api: ApiServer;
  const tokens: Record<string, string> = {};
  const logged: string[] = [];
  let untap: (() => void) | undefined;

  before(async () => {
    process.env.GRANTFLOW_ENCRYPTION_KEYS = keySpec;
    h = await createHarness({
      configTransform: (yaml) => {
        const url = /url: (\$\{\w+\})/.exec(yaml)![1];
        const prefix = /permissions:\n\s+readonly: \{ role: (\w+)_readonly \}/.exec(yaml)![1];
        return yaml
          .replace(
            'integrations:\n',
            `integrations:\n  dbtemp:\n    type: postgres\n    mode: temporary-user\n    url: ${url}\n    userPrefix: gft_\n    permissions:\n      readonly: { role: ${prefix}_readonly }\n`,
          )
          .replace(
            'flows:\n',
            'flows:\n  - name: temp-read\n    requesters: { groups: [engineering] }\n    resources: [{ name: dbtemp, permissions: [readonly] }]\n    autoApprove: true\n    defaultDuration: 1m\n    maxDuration: 5m\n    requireJustification: false\n',
          );
      },
    });
    api = await startApiServer({
      ctx: h.ctx,
      metrics: createMetrics(),
      log: testLog,
      port: 0,
      host: '127.0.0.1',
    });
    for (const p of ['alice', 'bob', 'carol'])
      tokens[p] = (await issueToken(h.ctx, { email: `${p}@example.com`, createdBy: 'test' })).token;
    // The worker, its connectors and the API server log through testLog: keep every line, at debug.
    untap = tapLogger(testLog, logged);
  });
  after(async () => {
    untap?.();
    await api?.close();
    await h?.close();
    if (priorKeys === undefined) delete process.env.GRANTFLOW_ENCRYPTION_KEYS;
    else process.env.GRANTFLOW_ENCRYPTION_KEYS = priorKeys;
  });

  async function call(person: string, method: string, path: string, body?: unknown) {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[person]}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: res.status,
      json: (await res.json()) as { request: { id: string }; credentials?: boolean } & Record<
        string,
        unknown
      >,
    };
  }

  it('hands the sign-in to the requester alone, and ends it completely at revoke', async () => {
    const made = await call('alice', 'POST', '/api/v1/requests', {
      flow: 'temp-read',
      resource: 'dbtemp',
      permission: 'readonly',
    });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const id = made.json.request.id;
    await h.waitFor(id, 'ACTIVE', 20_000);

    const detail = await call('alice', 'GET', `/api/v1/requests/${id}`);
    assert.equal(detail.json.credentials, true);
    const creds = await call('alice', 'GET', `/api/v1/requests/${id}/credentials`);
    assert.equal(creds.status, 200, JSON.stringify(creds.json));
    const { username, password } = creds.json as unknown as { username: string; password: string };
    assert.match(username, /^gft_alice_/);
    assert.equal(
      (await call('carol', 'GET', `/api/v1/requests/${id}/credentials`)).status,
      403,
      'not even an admin',
    );
    assert.equal(
      (await call('bob', 'GET', `/api/v1/requests/${id}/credentials`)).status,
      404,
      'a stranger learns nothing',
    );
    assert.equal((await h.auditEvent(id, 'request.credentials_read')).actor, 'alice@example.com');

    const u = new URL(h.dbUrl);
    u.username = username;
    u.password = password;
    const session = new PgClient({ connectionString: u.toString() });
    session.on('error', () => undefined);
    await session.connect();
    assert.ok((await session.query('select count(*) from incidents')).rows[0]);

    // Nowhere in the workflow's history, even with every payload decrypted, nor in what the processes logged.
    const history = await h.ctx.client.workflow.getHandle(workflowIdFor(id)).fetchHistory();
    const raw = JSON.stringify(history);
    assert.ok(!raw.includes(password));
    const codec = new EncryptionCodec(createKeyring(parseKeys(keySpec)));
    const decoded = await decodeAll(history, codec);
    assert.ok(decoded.length > 0 && decoded.some((p) => p.includes(username)), 'the history names the user');
    assert.ok(!decoded.some((p) => p.includes(password)), 'the password is in no payload');
    assert.ok(logged.join('').includes(username), 'the log was captured: it names the user');
    assert.ok(!logged.join('').includes(password), 'the password is in no log line');

    const revoked = await call('alice', 'POST', `/api/v1/requests/${id}/revoke`, { reason: 'done' });
    assert.equal(revoked.status, 200);
    await h.waitFor(id, 'REVOKED', 20_000);
    await assert.rejects(session.query('select 1'), 'the live session was killed');
    await session.end().catch(() => undefined);
    const verified = await h.auditEvent(id, 'request.revoke_verified');
    assert.deepEqual(
      { exists: verified.details.accessExists, sessions: verified.details.liveSessions },
      { exists: false, sessions: 0 },
    );
    assert.equal((await call('alice', 'GET', `/api/v1/requests/${id}/credentials`)).status, 404, 'forgotten');
    assert.equal(await h.store.getCredentials(id), undefined);
    const left = new PgClient({ connectionString: h.adminUrl });
    await left.connect();
    const roles = await left.query('select 1 from pg_roles where rolname = $1', [username]);
    await left.end();
    assert.equal(roles.rowCount, 0, 'the role is dropped');
  });
});

/** Every payload in a history, decoded with the codec, as text. */
async function decodeAll(history: unknown, codec: EncryptionCodec): Promise<string[]> {
  const found: { metadata?: Record<string, Uint8Array>; data?: Uint8Array }[] = [];
  const walk = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(walk);
    const o = v as Record<string, unknown>;
    if ('payloads' in o && Array.isArray(o.payloads)) found.push(...(o.payloads as typeof found));
    for (const value of Object.values(o)) walk(value);
  };
  walk(history);
  const decoded = await codec.decode(found as never);
  return decoded.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'));
}
