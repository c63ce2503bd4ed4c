/**
 * Approval rights come only from grantflow.yaml: no route of the API server (read from the running server and
 * from its OpenAPI document) writes flows, approvers or config; writes to flows answer 404/405 to a requester
 * and to an admin alike; request bodies refuse extra fields. Every config change loaded (ConfigHolder.reload, and
 * SIGHUP as the worker and server use it) is audited as `config.loaded` with its diff; an invalid file changes
 * nothing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigHolder } from '../core/config-holder';
import { createMetrics } from '../core/metrics';
import { issueToken } from '../core/tokens';
import { findFlow, snapshotFlow } from '../policy/snapshot';
import { startApiServer, type ApiServer } from '../server/start';
import type { AuditRow } from '../store/types';
import { startFakeSlack, type FakeSlack } from './fakes/slack-api';
import { createHarness, type Harness } from './helpers/harness';
import { until } from './helpers/until';
import { testLog } from './setup/stack';

/**
 * Every route of the API server that changes something, with Slack, Teams, login and dev login on. A new one must
 * be added here on purpose, after checking that it cannot change flows, approvers or the config. The request
 * routes act through the workflow; the chat endpoints (Slack, Teams) only call the same request use cases; the
 * codec endpoint encodes and decodes payloads; logout and dev login make or end a session.
 */
const MUTATING_ROUTES = [
  'POST /api/messages',
  // The Integrations page's changes: chat connections and health checks, never flows, approvers or config.
  'POST /api/v1/admin/integrations/connectors/:name/check',
  'POST /api/v1/admin/integrations/slack/disconnect',
  'POST /api/v1/requests',
  'POST /api/v1/requests/:id/approve',
  'POST /api/v1/requests/:id/cancel',
  'POST /api/v1/requests/:id/deny',
  'POST /api/v1/requests/:id/extend',
  'POST /api/v1/requests/:id/revoke',
  'POST /auth/dev',
  'POST /auth/logout',
  'POST /codec/*',
  'POST /slack/events',
];
const READ_METHODS = ['GET', 'HEAD', 'OPTIONS'];

/** A change to flows as someone would try to send it. */
const GIVE_ALICE_APPROVAL = {
  name: 'approved-write',
  approvers: { users: ['alice@example.com'], groups: ['dba'] },
  requiredApprovals: 0,
  autoApprove: true,
};

describe('security: approval rights come only from the config file', function () {
  this.timeout(60_000);
  let h: Harness;
  let api: ApiServer;
  let fake: FakeSlack;
  const tokens: Record<string, string> = {};

  before(async () => {
    fake = await startFakeSlack({ token: 'xoxb-config-test' });
    process.env.GF_SEC_CONFIG_SLACK_TOKEN = 'xoxb-config-test';
    process.env.GF_SEC_CONFIG_SLACK_SECRET = 'config-test-signing-secret';
    h = await createHarness({
      configTransform: (yaml) =>
        `${yaml}\nslack:\n  botToken: \${GF_SEC_CONFIG_SLACK_TOKEN}\n  signingSecret: \${GF_SEC_CONFIG_SLACK_SECRET}\n  apiUrl: ${fake.url}\n`,
    });
    api = await startApiServer({
      ctx: h.ctx,
      metrics: createMetrics(),
      log: testLog,
      port: 0,
      host: '127.0.0.1',
      slackRetries: 0,
      devLogin: true,
      teamsSettings: { appId: 'config-test-app', appType: 'MultiTenant', matchUsersByEmail: false },
    });
    for (const p of ['alice', 'carol'])
      tokens[p] = (await issueToken(h.ctx, { email: `${p}@example.com`, createdBy: 'test' })).token;
  });
  after(async () => {
    await api?.close();
    await h?.close();
    await fake?.close();
  });

  const approversOf = (flow: string) => snapshotFlow(h.config, findFlow(h.config, flow)!).approvers;
  async function call(person: string, method: string, urlPath: string, body?: unknown) {
    const res = await fetch(`${api.url}${urlPath}`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[person]}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  }

  it('registers and documents no route that writes flows, approvers or config', async () => {
    const mutating = [
      ...new Set(
        api.routes.filter((r) => !READ_METHODS.includes(r.method)).map((r) => `${r.method} ${r.url}`),
      ),
    ].sort();
    assert.deepEqual(mutating, MUTATING_ROUTES, 'the routes that change something are the known ones');
    assert.ok(
      api.routes.every(
        (r) =>
          READ_METHODS.includes(r.method) ||
          !/flow|approver|config|identit|admin(?!\/integrations\/(slack|connectors)\/)/i.test(r.url),
      ),
    );

    const doc = (await (await fetch(`${api.url}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(doc.paths)
      .flatMap(([p, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`),
      )
      .filter((op) => !READ_METHODS.includes(op.split(' ')[0]))
      .sort();
    assert.deepEqual(
      documented,
      MUTATING_ROUTES.filter((r) => r.includes(' /api/v1/')),
      'the OpenAPI document offers no other write',
    );
  });

  it('answers 404/405 to writes on flows, approvers and config, for a requester and an admin alike', async () => {
    const version = h.config.version;
    const before = approversOf('approved-write');
    const paths = [
      '/api/v1/flows',
      '/api/v1/flows/approved-write',
      '/api/v1/flows/approved-write/approvers',
      '/api/v1/admin/flows',
      '/api/v1/admin/flows/approved-write',
      '/api/v1/config',
      '/api/v1/admin/config',
      '/api/v1/admin/reload',
      '/api/v1/identities/alice@example.com',
    ];
    for (const person of ['alice', 'carol'])
      for (const urlPath of paths)
        for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
          const res = await call(person, method, urlPath, GIVE_ALICE_APPROVAL);
          assert.ok(
            [404, 405].includes(res.status),
            `${person}: ${method} ${urlPath} → ${res.status} ${res.text}`,
          );
        }

    // The request and decision bodies take no extra fields either.
    const smuggled = await call('alice', 'POST', '/api/v1/requests', {
      flow: 'approved-write',
      resource: 'db',
      permission: 'readwrite',
      reason: 'smuggle',
      approvers: ['alice@example.com'],
      requiredApprovals: 0,
    });
    assert.equal(smuggled.status, 400, smuggled.text);
    assert.match(smuggled.text, /invalid_input/);

    assert.equal(h.config.version, version, 'the config in force is the same');
    assert.deepEqual(approversOf('approved-write'), before);
    const flows = await call('carol', 'GET', '/api/v1/admin/flows');
    const write = (JSON.parse(flows.text) as { name: string; approvers: string[] }[]).find(
      (f) => f.name === 'approved-write',
    );
    assert.deepEqual([...(write?.approvers ?? [])].sort(), [
      'bob@example.com',
      'carol@example.com',
      'dave@example.com',
    ]);
  });

  it('audits every config change loaded, by reload and by SIGHUP, with its diff; an invalid file changes nothing', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-sec-config-'));
    const file = path.join(dir, 'grantflow.yaml');
    writeFileSync(file, h.configYaml);
    const holder = new ConfigHolder(file, h.store, testLog);
    const loaded = async (): Promise<AuditRow[]> => h.store.listAudit({ type: 'config.loaded' });
    const start = (await loaded()).length;
    await holder.recordInitial('test');
    assert.equal((await loaded()).length, start + 1, 'the config in force at start is recorded');

    // Giving alice approval rights is a change to the file, and it is on the record with its diff.
    const withAlice = h.configYaml.replace(
      'approvers: { groups: [dba] }',
      'approvers: { groups: [dba], users: [alice@example.com] }',
    );
    assert.notEqual(withAlice, h.configYaml);
    writeFileSync(file, withAlice);
    assert.equal(await holder.reload('test'), true);
    const byReload = (await loaded()).at(-1)!;
    assert.equal(byReload.actor, 'test');
    assert.equal(byReload.channel, 'config');
    assert.match(
      String(byReload.details.diff),
      /-\s+approvers: \{ groups: \[dba\] \}\n\+\s+approvers: \{ groups: \[dba\], users: \[alice@example\.com\] \}/,
    );
    assert.equal(byReload.details.version, holder.current().version);
    assert.ok(
      snapshotFlow(holder.current(), findFlow(holder.current(), 'approved-write')!).approvers.includes(
        'alice@example.com',
      ),
    );

    // The same again: nothing changed, nothing recorded.
    assert.equal(await holder.reload('test'), false);
    assert.equal((await loaded()).length, start + 2);

    // SIGHUP, as `grantflow worker` and `grantflow server` reload.
    const unwatch = holder.watchSighup();
    try {
      writeFileSync(file, withAlice.replace('requiredApprovals: 2', 'requiredApprovals: 1'));
      process.kill(process.pid, 'SIGHUP');
      const bySighup = await until('the SIGHUP reload in the audit log', async () => {
        const rows = await loaded();
        return rows.length > start + 2 ? rows.at(-1) : undefined;
      });
      assert.equal(bySighup.actor, 'sighup');
      assert.match(String(bySighup.details.diff), /-\s+requiredApprovals: 2\n\+\s+requiredApprovals: 1/);
    } finally {
      unwatch();
    }

    // A broken file is refused: the config in force stays and nothing is recorded.
    const inForce = holder.current().version;
    writeFileSync(file, 'flows: [oops');
    await assert.rejects(holder.reload('test'));
    assert.equal(holder.current().version, inForce);
    assert.equal((await loaded()).length, start + 3);
  });
});
