/**
 * Secrets never reach the log: known keys are redacted at any depth, and URLs lose their password.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { REDACT_PATHS, redactUrl } from '../core/logger';

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

  it('removes the password from connection URLs', () => {
    assert.equal(
      redactUrl('postgres://grantflow:s3cret@db:5432/app'),
      'postgres://grantflow:***@db:5432/app',
    );
    assert.doesNotMatch(redactUrl('not a url s3cret'), /s3cret/);
  });
});
