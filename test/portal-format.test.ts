/**
 * The portal's plain-words formatting (portal/src/format.ts), run under mocha like the rest: the live
 * countdown, timeline lines and status tones.
 */
import assert from 'node:assert/strict';
import { countdown, eventKind, eventWords, statusTone, statusWords } from '../portal/src/format';

describe('portal formatting', () => {
  const at = Date.parse('2026-11-26T12:00:00Z');

  it('counts down in mm:ss under an hour, in hours and minutes above, and says when it is over', () => {
    assert.equal(countdown('2026-11-26T12:29:59.400Z', at), '30:00');
    assert.equal(countdown('2026-11-26T12:00:05Z', at), '00:05');
    assert.equal(countdown('2026-11-26T14:05:00Z', at), '2h 05m');
    assert.equal(countdown('2026-11-26T12:00:00Z', at), 'expired');
    assert.equal(countdown('not a date', at), 'expired');
  });

  it('writes timeline lines in plain words', () => {
    assert.equal(eventKind('request.granted'), 'granted');
    assert.equal(
      eventWords({ type: 'request.approval', actor: 'bob@example.com', channel: 'slack' }),
      'Approved by bob@example.com (slack)',
    );
    assert.equal(
      eventWords({ type: 'request.granted', actor: 'grantflow', channel: 'workflow' }),
      'Access granted',
    );
    assert.equal(
      eventWords({ type: 'request.requested', actor: 'alice@example.com', channel: 'portal' }),
      'Requested · alice@example.com (portal)',
    );
    assert.equal(
      eventWords({ type: 'token.created', actor: 'carol@example.com', channel: null }),
      'token created · carol@example.com',
    );
  });

  it('gives each status words and a tone', () => {
    assert.equal(statusWords('PENDING_APPROVAL'), 'Waiting for approval');
    assert.equal(statusTone('ACTIVE'), 'good');
    assert.equal(statusTone('GRANT_FAILED'), 'bad');
    assert.equal(statusTone('GRANTING'), 'wait');
    assert.equal(statusTone('REVOKED'), 'done');
  });
});
