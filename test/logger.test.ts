/**
 * Logging: secrets never reach the log (known keys are redacted at any depth pino addresses, and credentials are
 * scrubbed out of every string: URL passwords, bearer tokens, Slack and Grantflow API tokens), and every line the
 * worker writes during a request's life is one JSON object that names the request (requestId), with the workflow
 * and the attempt on the activities' lines.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { ChatAdapter } from '../chat-adapters/types';
import { createRequest } from '../core/create-request';
import { baseLoggerOptions, REDACT_PATHS, redactUrl, scrubSecrets } from '../core/logger';
import { issueToken } from '../core/tokens';
import { workflowIdFor } from '../workflows/definitions';
import { tapLogger } from './helpers/capture-log';
import { createHarness, type Harness } from './helpers/harness';
import { testLog } from './setup/stack';

/** How long to wait for a step, in seconds. */
const WAIT_MS = Number(process.env.GRANTFLOW_TEST_WAIT_SECONDS ?? 20) * 1000;

/** A logger with Grantflow's options whose lines go into `into`. */
function sinkLogger(into: string[]) {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      into.push(chunk.toString());
      done();
    },
  });
  return pino({ ...baseLoggerOptions(), level: 'debug' }, sink);
}

describe('logging', () => {
  it('redacts secrets under known keys', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        out += chunk;
        done();
      },
    });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log.info(
      { password: 'hunter2', integration: { url: 'postgres://u:hunter2@h/db', token: 'xoxb-1' } },
      'hello',
    );
    assert.doesNotMatch(out, /hunter2|xoxb-1/);
    assert.match(out, /\[redacted\]/);
  });

  it('redacts authorization headers, client secrets, app passwords and connection strings', () => {
    const lines: string[] = [];
    const log = sinkLogger(lines);
    log.info(
      {
        req: { headers: { authorization: 'Bearer s1', cookie: 'gf_session=s2', 'x-api-key': 's3' } },
        oidc: { clientSecret: 's4', client_secret: 's5' },
        teams: { MicrosoftAppPassword: 's6' },
        slack: { botToken: 's7', signingSecret: 's8', appToken: 's9' },
        DATABASE_URL: 's10',
        store: { databaseUrl: 's11', connectionString: 's12' },
        aws: { secretAccessKey: 's13', sessionToken: 's14' },
      },
      'settings',
    );
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.doesNotMatch(lines[0]!, /"s\d+"/, lines[0]);
    assert.deepEqual(line.oidc, { clientSecret: '[redacted]', client_secret: '[redacted]' });
    assert.equal(line.msg, 'settings');
  });

  it('scrubs credentials out of messages, string fields and errors', () => {
    const apiToken = `gft_${randomBytes(32).toString('base64url')}`;
    const slackToken = `xoxb-1234-5678-${randomBytes(12).toString('hex')}`;
    const lines: string[] = [];
    const log = sinkLogger(lines);
    log.warn(
      { note: `retrying postgres://grantflow:pg-Secret9@db:5432/app`, list: [`token ${slackToken}`] },
      `call failed with Authorization: Bearer ${apiToken}`,
    );
    log.error(new Error(`cannot connect to mysql://root:my-Secret8@db/x`));
    log.error({ err: new Error(`host=db user=gf password=kv-Secret7 sslmode=require`) }, 'store down');
    const text = lines.join('');
    for (const secret of ['pg-Secret9', 'my-Secret8', 'kv-Secret7', apiToken, slackToken])
      assert.ok(!text.includes(secret), `${secret} is not logged: ${text}`);
    assert.match(text, /postgres:\/\/grantflow:\*\*\*@db:5432\/app/, 'the rest of the URL stays');
    assert.equal(lines.length, 3);
    for (const l of lines) JSON.parse(l);

    assert.equal(scrubSecrets('http://127.0.0.1:5432/demo'), 'http://127.0.0.1:5432/demo');
    assert.equal(scrubSecrets('Bearer x'), 'Bearer x', 'too short to be a token');
    assert.equal(scrubSecrets('no secrets here'), 'no secrets here');
  });

  it('removes the password from connection URLs', () => {
    assert.equal(
      redactUrl('postgres://grantflow:s3cret@db:5432/app'),
      'postgres://grantflow:***@db:5432/app',
    );
    assert.doesNotMatch(redactUrl('not a url s3cret'), /s3cret/);
  });
});

describe("the worker's log over a request's life", function () {
  this.timeout(Math.max(120_000, WAIT_MS * 4));
  let h: Harness;
  const slackToken = `xoxb-2001-3002-${randomBytes(12).toString('hex')}`;
  let apiToken = '';
  let dbPassword = '';

  /**
   * A Slack whose Web API refuses, and whose errors echo the credentials of the call (as SDKs and proxies
   * sometimes do): the notifier logs each failure, and no secret may come through.
   */
  function leakySlack(): ChatAdapter {
    const refuse = () =>
      Promise.reject(
        new Error(
          `invalid_auth: token=${slackToken} (Authorization: Bearer ${apiToken}) ` +
            `via postgres://grantflow:${dbPassword}@127.0.0.1/state`,
        ),
      );
    return { platform: 'slack', post: refuse, update: refuse };
  }

  before(async () => {
    h = await createHarness({ chatAdapters: () => [leakySlack()] });
    dbPassword = decodeURIComponent(new URL(h.dbUrl).password);
    apiToken = (await issueToken(h.ctx, { email: 'alice@example.com', createdBy: 'test' })).token;
  });
  after(async () => {
    await h?.close();
  });

  it('names the request on every line, the workflow and attempt on activity lines, and logs no secret', async () => {
    assert.ok(dbPassword.length > 0, 'the target database has a password to leak');
    const lines: string[] = [];
    // The worker, its connectors (made on first use, so at debug) and the notifier all log through testLog.
    const untap = tapLogger(testLog, lines);
    let id = '';
    try {
      const { request } = await createRequest(h.ctx, h.actor('alice', 'slack'), {
        flow: 'auto-read',
        resource: 'db',
        permission: 'readonly',
        reason: 'logging',
        durationMs: 1500,
      });
      id = request.id;
      await h.waitFor(id, 'REVOKED', WAIT_MS);
      // The workflow ends once its last notification is sent (or given up).
      await h.ctx.client.workflow.getHandle(workflowIdFor(id)).result();
    } finally {
      untap();
    }

    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const messages = parsed.map((l) => String(l.msg));
    for (const line of parsed)
      assert.equal(line.requestId, id, `every line names the request: ${JSON.stringify(line)}`);
    for (const wanted of [
      'access requested',
      'request requested',
      'opening connection pool',
      'granted role membership',
      'access granted',
      'request granted',
      'notification failed: post slack alice@example.com',
      'revoked role membership',
      'access revoked',
      'request revoked',
    ])
      assert.ok(messages.includes(wanted), `"${wanted}" is logged; got: ${messages.join(' | ')}`);
    const activityLines = parsed.filter((l) => l.activity !== undefined);
    assert.ok(activityLines.length >= 6, `activity lines: ${activityLines.length}`);
    for (const line of activityLines) {
      assert.equal(line.workflowId, workflowIdFor(id));
      assert.ok(Number(line.attempt) >= 1, `attempt on ${JSON.stringify(line)}`);
    }
    const granted = parsed.find((l) => l.msg === 'request granted')!;
    assert.equal(granted.activity, 'grantAccess');

    const text = lines.join('');
    assert.ok(!text.includes(dbPassword), 'the database password is not logged');
    assert.ok(!text.includes('test-password-1'), 'no login password is logged');
    assert.ok(!text.includes(slackToken), 'the Slack token is not logged');
    assert.ok(!text.includes(apiToken), 'the API token is not logged');
    assert.match(text, /invalid_auth: token=\[redacted\]/, 'the failure itself is still told');
  });
});
