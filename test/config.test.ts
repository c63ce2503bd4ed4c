import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { diffConfigs } from '../config/diff';
import { ConfigError, ConfigFileError, UnknownIdentityError, type ConfigIssue } from '../config/errors';
import { explainFor, formatExplanation } from '../config/explain';
import { findConfigFile, loadConfig, parseConfig } from '../config/load';
import type { GrantflowConfig } from '../config/types';
import { checkRequest, findFlow, findIdentity, snapshotFlow, type RequestInput } from '../policy/snapshot';

const EXAMPLE = resolve(__dirname, '..', 'grantflow.yaml');
const ENV = { GRANTFLOW_SANDBOX_DB_URL: 'postgres://grantflow:pw@localhost:5432/sandbox' };
const BASE = readFileSync(EXAMPLE, 'utf8');

/** Replaces exactly one occurrence, so a test breaks loudly if the example changes under it. */
function edit(text: string, from: string, to: string): string {
  assert.equal(text.split(from).length, 2, `expected exactly one ${JSON.stringify(from)} in the example`);
  return text.replace(from, to);
}

/** 1-based line and column of `needle` in `text` (the n-th occurrence). */
function positionOf(text: string, needle: string, nth = 1): { line: number; column: number } {
  let index = -1;
  for (let k = 0; k < nth; k++) index = text.indexOf(needle, index + 1);
  assert.ok(index >= 0, `${needle} not found`);
  const before = text.slice(0, index).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

function issuesOf(text: string, env: NodeJS.ProcessEnv = ENV): ConfigIssue[] {
  try {
    parseConfig(text, 'grantflow.yaml', env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('expected the config to be rejected');
}

function onlyIssue(text: string, env: NodeJS.ProcessEnv = ENV): ConfigIssue {
  const issues = issuesOf(text, env);
  assert.equal(issues.length, 1, issues.map((i) => i.message).join('\n'));
  return issues[0];
}

describe('config: the example grantflow.yaml', () => {
  it('loads, with secrets resolved and durations in ms', () => {
    const config = loadConfig(EXAMPLE, ENV);
    assert.equal(config.file, EXAMPLE);
    assert.equal(config.version, createHash('sha256').update(BASE).digest('hex'));
    assert.equal(config.taskQueue, 'grantflow');
    assert.deepEqual(config.settings, {
      revokeAlertAfterAttempts: 5,
      revokeMaxBackoffMs: 60_000,
      stepUpMaxAgeMs: 600_000,
      revokeOverdueAfterMs: 300_000,
    });
    assert.deepEqual(
      config.identities.map((i) => [i.email, i.groups, i.accounts]),
      [
        ['alice@example.com', ['engineering'], { 'sandbox-db': 'alice' }],
        ['bob@example.com', ['dba'], { 'sandbox-db': 'bob' }],
        ['carol@example.com', ['dba'], { 'sandbox-db': 'carol' }],
      ],
    );
    assert.deepEqual(config.admins.users, ['carol@example.com']);
    const db = config.integrations['sandbox-db'];
    assert.equal(db.type, 'postgres');
    assert.equal(db.type === 'postgres' && db.url, ENV.GRANTFLOW_SANDBOX_DB_URL);
    assert.deepEqual(db.permissions, { readonly: { role: 'readonly' }, readwrite: { role: 'readwrite' } });
  });

  it('has the two sandbox flows with their documented terms', () => {
    const config = loadConfig(EXAMPLE, ENV);
    const ro = findFlow(config, 'sandbox-readonly');
    assert.ok(ro);
    assert.equal(ro.autoApprove, true);
    assert.equal(ro.requireJustification, false);
    assert.equal(ro.defaultDurationMs, 3_600_000);
    assert.equal(ro.maxDurationMs, 8 * 3_600_000);
    assert.deepEqual(ro.requesters.groups, ['engineering']);
    assert.deepEqual(ro.resources, [
      { name: 'sandbox-db', integration: 'sandbox-db', permissions: ['readonly'] },
    ]);
    const rw = findFlow(config, 'sandbox-readwrite');
    assert.ok(rw);
    assert.equal(rw.autoApprove, false);
    assert.equal(rw.requiredApprovals, 1);
    assert.deepEqual(rw.approvers.groups, ['dba']);
    assert.equal(rw.maxDurationMs, 4 * 3_600_000);
    assert.equal(rw.maxTotalDurationMs, 12 * 3_600_000, 'defaults to 3 × maxDuration');
    assert.equal(rw.approvalTimeoutMs, 3_600_000);
    assert.equal(rw.requireJustification, true);
    assert.deepEqual(rw.resources[0].permissions, ['readwrite']);
  });

  it('can be validated without its secrets when resolution is off', () => {
    const config = parseConfig(BASE, 'grantflow.yaml', {}, { resolveSecrets: false });
    const db = config.integrations['sandbox-db'];
    assert.equal(db.type === 'postgres' && db.url, '${GRANTFLOW_SANDBOX_DB_URL}');
  });
});

describe('config: errors point at the line, column and field', () => {
  it('a bad duration', () => {
    const text = edit(BASE, 'maxDuration: 4h', 'maxDuration: 9x');
    const issue = onlyIssue(text);
    assert.deepEqual(issue, {
      file: 'grantflow.yaml',
      ...positionOf(text, '9x'),
      path: 'flows[1].maxDuration',
      message: '"9x" is not a duration (use e.g. 30m, 1h, 8h)',
    });
    const { line, column } = positionOf(text, '9x');
    assert.throws(
      () => parseConfig(text, 'grantflow.yaml', ENV),
      (err: Error) =>
        err.message ===
        `grantflow.yaml:${line}:${column}: flows[1].maxDuration: "9x" is not a duration (use e.g. 30m, 1h, 8h)`,
    );
  });

  it('an unknown group', () => {
    const text = edit(BASE, 'approvers: { groups: [dba] }', 'approvers: { groups: [dbas] }');
    const issues = issuesOf(text);
    const issue = issues.find((i) => i.path === 'flows[1].approvers.groups[0]');
    assert.ok(issue, JSON.stringify(issues));
    assert.deepEqual({ line: issue.line, column: issue.column }, positionOf(text, 'dbas'));
    assert.match(issue.message, /unknown group "dbas"/);
  });

  it('a misspelled key, with a suggestion', () => {
    const text = edit(BASE, 'maxDuration: 4h', 'maxDuraton: 4h');
    const issue = issuesOf(text).find((i) => i.path === 'flows[1].maxDuraton');
    assert.ok(issue);
    assert.deepEqual({ line: issue.line, column: issue.column }, positionOf(text, 'maxDuraton'));
    assert.equal(issue.message, 'unknown key "maxDuraton" (did you mean "maxDuration"?)');
  });

  it('a missing key points at the map that lacks it', () => {
    const text = edit(BASE, '    approvers: { groups: [dba] }\n', '');
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'flows[1].approvers');
    assert.deepEqual({ line: issue.line, column: issue.column }, positionOf(text, 'name: sandbox-readwrite'));
    assert.match(issue.message, /required unless autoApprove/);
  });

  it('a YAML syntax error', () => {
    const text = edit(BASE, 'approved by a DBA.', 'approved: by a DBA.');
    const issue = onlyIssue(text);
    assert.equal(issue.path, '');
    assert.equal(issue.line, positionOf(text, 'approved: by').line);
    assert.match(issue.message, /^YAML syntax error: .*quotes/);
  });

  it('a missing environment variable, naming it but no value', () => {
    const text = BASE;
    const issue = onlyIssue(text, {});
    assert.equal(issue.path, 'integrations.sandbox-db.url');
    assert.deepEqual(
      { line: issue.line, column: issue.column },
      positionOf(text, '${GRANTFLOW_SANDBOX_DB_URL}'),
    );
    assert.match(issue.message, /environment variable GRANTFLOW_SANDBOX_DB_URL is not set/);
  });

  it('an inline secret, without repeating it', () => {
    const text = edit(
      BASE,
      'url: ${GRANTFLOW_SANDBOX_DB_URL}',
      'url: postgres://grantflow:hunter2@db/sandbox',
    );
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'integrations.sandbox-db.url');
    assert.equal(issue.line, positionOf(text, 'hunter2').line);
    assert.match(issue.message, /use a reference, \$\{ENV_NAME\}.*\$\{file:/);
    assert.doesNotMatch(issue.message, /hunter2/);
  });

  it('maxDuration shorter than defaultDuration', () => {
    const text = edit(
      BASE,
      '    defaultDuration: 1h\n    maxDuration: 4h',
      '    defaultDuration: 5h\n    maxDuration: 4h',
    );
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'flows[1].defaultDuration');
    assert.deepEqual({ line: issue.line, column: issue.column }, positionOf(text, '5h'));
    assert.equal(issue.message, '5h is longer than maxDuration (4h)');
  });

  it('a permission the integration does not have', () => {
    const text = edit(BASE, 'permissions: [readwrite]', 'permissions: [admin]');
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'flows[1].resources[0].permissions[0]');
    assert.deepEqual({ line: issue.line, column: issue.column }, positionOf(text, 'admin]'));
    assert.match(issue.message, /has no permission "admin" \(it has: readonly, readwrite\)/);
  });

  it('duplicate flow names', () => {
    const text = edit(BASE, 'name: sandbox-readwrite', 'name: sandbox-readonly');
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'flows[1].name');
    assert.deepEqual({ line: issue.line, column: issue.column }, positionOf(text, 'sandbox-readonly', 2));
  });

  it('duplicate emails, compared case-insensitively', () => {
    const text = edit(BASE, '  - email: bob@example.com', '  - email: Alice@Example.COM');
    const issues = issuesOf(text);
    const dup = issues.find((i) => i.path === 'identities[1].email');
    assert.ok(dup, JSON.stringify(issues));
    assert.match(dup.message, /alice@example.com is already listed as identities\[0\]/);
  });

  it('requiredApprovals above the number of approvers', () => {
    const text = edit(BASE, 'requiredApprovals: 1', 'requiredApprovals: 3');
    const issue = onlyIssue(text);
    assert.equal(issue.path, 'flows[1].requiredApprovals');
    assert.match(issue.message, /only 2 people/);
  });

  it('reports every problem at once, in file order', () => {
    let text = edit(BASE, 'maxDuration: 4h', 'maxDuration: 9x');
    text = edit(text, 'revokeAlertAfterAttempts: 5', 'revokeAlertAfterAttempts: many');
    const issues = issuesOf(text);
    assert.deepEqual(
      issues.map((i) => i.path),
      ['settings.revokeAlertAfterAttempts', 'flows[1].maxDuration'],
    );
    assert.equal(issues[0].message, 'must be a number, not text');
  });
});

describe('config: secret files and finding the config', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'grantflow-config-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads ${file:…} relative to the config, without the trailing newline', () => {
    writeFileSync(join(dir, 'db-url'), 'postgres://from-file/db\n');
    const file = join(dir, 'grantflow.yaml');
    writeFileSync(file, edit(BASE, '${GRANTFLOW_SANDBOX_DB_URL}', '${file:./db-url}'));
    const db = loadConfig(file, {}).integrations['sandbox-db'];
    assert.equal(db.type === 'postgres' && db.url, 'postgres://from-file/db');
  });

  it('a missing secret file names the file and the line', () => {
    const file = join(dir, 'grantflow.yaml');
    const text = edit(BASE, '${GRANTFLOW_SANDBOX_DB_URL}', '${file:./nope}');
    writeFileSync(file, text);
    assert.throws(
      () => loadConfig(file, {}),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.issues[0].line === positionOf(text, '${file:./nope}').line &&
        err.issues[0].message.includes(join(dir, 'nope')),
    );
  });

  it('findConfigFile prefers --config, then GRANTFLOW_CONFIG, and says when none exists', () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, BASE);
    writeFileSync(b, BASE);
    assert.equal(findConfigFile(a, { GRANTFLOW_CONFIG: b }), a);
    assert.equal(findConfigFile(undefined, { GRANTFLOW_CONFIG: b }), b);
    assert.throws(() => findConfigFile(join(dir, 'missing.yaml'), {}), ConfigFileError);
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      assert.throws(
        () => findConfigFile(undefined, {}),
        /no config file: pass --config FILE, set GRANTFLOW_CONFIG/,
      );
      writeFileSync(join(dir, 'grantflow.yaml'), BASE);
      assert.equal(findConfigFile(undefined, {}), join(dir, 'grantflow.yaml'));
    } finally {
      process.chdir(cwd);
    }
  });
});

describe('config: explain', () => {
  const config = loadConfig(EXAMPLE, ENV);

  it('lists what alice may request and who approves it', () => {
    const e = explainFor(config, 'Alice@Example.com');
    assert.deepEqual(
      e.flows.map((f) => f.name),
      ['sandbox-readonly', 'sandbox-readwrite'],
    );
    const rw = e.flows[1];
    assert.deepEqual(rw.approvers, ['bob@example.com', 'carol@example.com']);
    assert.equal(rw.resources[0].account, 'alice');
    const text = formatExplanation(e);
    const [roPart, rwPart] = text.split('sandbox-readwrite —');
    assert.match(roPart, /sandbox-readonly — /);
    assert.match(roPart, /approval: +automatic/);
    assert.match(roPart, /justification: optional/);
    assert.match(rwPart, /approval: +1 approval from bob@example.com, carol@example.com \(group dba\)/);
    assert.match(rwPart, /at most 4h per request/);
    assert.match(rwPart, /justification: required/);
  });

  it('shows approvers what they approve, and refuses unknown people', () => {
    const bob = explainFor(config, 'bob@example.com');
    assert.deepEqual(bob.flows, []);
    assert.deepEqual(bob.approves, ['sandbox-readwrite']);
    assert.equal(explainFor(config, 'carol@example.com').isAdmin, true);
    assert.throws(() => explainFor(config, 'zed@example.com'), UnknownIdentityError);
    assert.throws(
      () => explainFor(config, 'zed@example.com'),
      /zed@example.com is not an identity in the config/,
    );
  });
});

describe('policy: checkRequest and snapshots', () => {
  const config: GrantflowConfig = loadConfig(EXAMPLE, ENV);
  const ro: RequestInput = {
    requester: 'alice@example.com',
    flow: 'sandbox-readonly',
    resource: 'sandbox-db',
    permission: 'readonly',
    reason: '',
  };

  it('accepts a valid request, applying the default duration', () => {
    const result = checkRequest(config, { ...ro, requester: 'ALICE@example.com' });
    assert.ok(result.ok);
    assert.equal(result.durationMs, 3_600_000);
    assert.equal(result.account, 'alice');
    assert.equal(result.integration.type, 'postgres');
    assert.equal(result.snapshot.configVersion, config.version);
    assert.deepEqual(result.snapshot.admins, ['carol@example.com']);
  });

  it('snapshots approvers resolved to emails', () => {
    const snap = snapshotFlow(config, findFlow(config, 'sandbox-readwrite')!);
    assert.deepEqual(snap.approvers, ['bob@example.com', 'carol@example.com']);
    assert.equal(snap.requiredApprovals, 1);
    assert.equal(findIdentity(config, ' Bob@Example.com')?.email, 'bob@example.com');
  });

  const refusals: [string, Partial<RequestInput>, string, RegExp][] = [
    ['unknown identity', { requester: 'zed@example.com' }, 'requester', /not an identity/],
    ['unknown flow', { flow: 'prod' }, 'flow', /no flow named "prod"/],
    [
      'not a requester',
      { requester: 'bob@example.com' },
      'requester',
      /may not request flow sandbox-readonly/,
    ],
    ['resource not in flow', { resource: 'prod-db' }, 'resource', /does not offer resource "prod-db"/],
    ['permission not allowed', { permission: 'readwrite' }, 'permission', /"readwrite" is not offered/],
    [
      'duration above max',
      { durationMs: 9 * 3_600_000 },
      'durationMs',
      /9h is longer than flow sandbox-readonly allows \(at most 8h\)/,
    ],
    [
      'no justification',
      { flow: 'sandbox-readwrite', permission: 'readwrite', reason: ' ' },
      'reason',
      /requires a reason/,
    ],
  ];
  for (const [what, change, field, message] of refusals) {
    it(`refuses: ${what}`, () => {
      const result = checkRequest(config, { ...ro, ...change });
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.field, field);
      assert.match(result.message, message);
    });
  }

  it('refuses a requester without an account in the integration', () => {
    const text = edit(BASE, 'accounts: { sandbox-db: alice }', 'accounts: {}');
    const noAccount = parseConfig(text, 'grantflow.yaml', ENV);
    const result = checkRequest(noAccount, ro);
    assert.ok(!result.ok);
    assert.equal(result.field, 'requester');
    assert.match(result.message, /has no account in sandbox-db/);
  });
});

describe('config: diffConfigs', () => {
  it('shows the changed lines with context, and nothing for equal texts', () => {
    const after = edit(BASE, 'maxDuration: 4h', 'maxDuration: 2h');
    const diff = diffConfigs(BASE, after);
    const lines = diff.split('\n');
    assert.deepEqual(lines.slice(0, 2), ['--- previous', '+++ current']);
    assert.deepEqual(
      lines.filter((l) => /^[-+] /.test(l) || /^[-+][^-+]/.test(l)),
      ['-    maxDuration: 4h', '+    maxDuration: 2h'],
    );
    const line = positionOf(BASE, 'maxDuration: 4h').line;
    assert.equal(lines[2], `@@ -${line - 3},7 +${line - 3},7 @@`);
    assert.equal(diffConfigs(BASE, BASE), '');
  });

  it('handles insertions and deletions', () => {
    const diff = diffConfigs('a\nb\nc\n', 'a\nc\nd\n');
    assert.equal(diff, ['--- previous', '+++ current', '@@ -1,3 +1,3 @@', ' a', '-b', ' c', '+d'].join('\n'));
  });
});
