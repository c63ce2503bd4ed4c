/**
 * The notifier, written once for every platform: posts a new request to each of the flow's targets (and to
 * approvers directly where asked), remembers every sent message, updates every copy on each transition, and
 * tells the requester the outcome. A recording adapter stands in for a chat platform; the store is real.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Notifier } from '../chat-adapters/notifier';
import type {
  Audience,
  ChatAdapter,
  Destination,
  RequestMessage,
  SentMessageRef,
} from '../chat-adapters/types';
import { openStore } from '../store';
import type { Store } from '../store/types';
import { testLog } from './setup/stack';

class RecordingAdapter implements ChatAdapter {
  readonly posts: { destination: Destination; audience: Audience; event: string }[] = [];
  readonly updates: { ref: SentMessageRef; status: string }[] = [];
  readonly alerts: string[] = [];
  private n = 0;
  constructor(readonly platform: string) {}
  async post(destination: Destination, audience: Audience, message: RequestMessage) {
    this.posts.push({ destination, audience, event: message.event });
    const conversationId =
      destination.kind === 'person' ? `D-${destination.email}` : `C-${destination.target.channel}`;
    return {
      requestId: message.requestId,
      platform: this.platform,
      audience,
      conversationId,
      messageId: String(++this.n),
    };
  }
  async update(ref: SentMessageRef, message: RequestMessage) {
    this.updates.push({ ref, status: message.status });
  }
  async alert(_target: unknown, text: string) {
    this.alerts.push(text);
  }
}

const message = (over: Partial<RequestMessage>): RequestMessage => ({
  requestId: 'req_notify1',
  requester: 'alice@example.com',
  flow: 'approved-write',
  resource: 'db',
  permission: 'readwrite',
  reason: 'fix data',
  durationMs: 3_600_000,
  status: 'PENDING_APPROVAL',
  decisions: [],
  approvers: ['alice@example.com', 'bob@example.com', 'carol@example.com'],
  requiredApprovals: 1,
  autoApprove: false,
  event: 'requested',
  ...over,
});

describe('notifier', () => {
  let store: Store;
  before(async () => {
    store = await openStore({
      sqliteFile: path.join(mkdtempSync(path.join(os.tmpdir(), 'gf-notify-')), 'n.sqlite'),
    });
    await store.migrate();
  });
  after(async () => {
    await store?.close();
  });

  it('posts to every target, DMs approvers but not the requester, and updates every copy later', async () => {
    const slack = new RecordingAdapter('slack');
    const teams = new RecordingAdapter('teams');
    const notifier = new Notifier([slack, teams], store, testLog);
    const targets = [
      { platform: 'slack' as const, channel: 'access', dmApprovers: true },
      { platform: 'teams' as const, channel: 'approvals' },
    ];
    await notifier.publish(message({}), targets);
    const approverPosts = slack.posts.filter((p) => p.audience === 'approvers');
    assert.deepEqual(
      approverPosts.map((p) => (p.destination.kind === 'person' ? p.destination.email : p.destination.kind)),
      ['target', 'bob@example.com', 'carol@example.com'],
      'the channel, then each approver except the requester',
    );
    assert.equal(teams.posts.filter((p) => p.audience === 'approvers').length, 1);
    const refs = await store.listMessageRefs('req_notify1');
    assert.equal(refs.length, slack.posts.length + teams.posts.length, 'every sent message is remembered');

    await notifier.publish(message({ status: 'APPROVED', event: 'approved' }), targets);
    assert.equal(slack.updates.length + teams.updates.length, refs.length, 'every copy is updated');
    assert.ok([...slack.updates, ...teams.updates].every((u) => u.status === 'APPROVED'));
    assert.equal(slack.posts.filter((p) => p.event === 'approved').length, 0, 'no new approver posts');
  });

  it('asks nobody to approve an auto-approved request, and tells the requester the outcome', async () => {
    const slack = new RecordingAdapter('slack');
    const notifier = new Notifier([slack], store, testLog);
    const targets = [{ platform: 'slack' as const, channel: 'access', dmApprovers: true }];
    await notifier.publish(message({ requestId: 'req_auto', autoApprove: true }), targets);
    assert.equal(slack.posts.filter((p) => p.audience === 'approvers').length, 0);
    await notifier.publish(
      message({ requestId: 'req_auto', autoApprove: true, status: 'ACTIVE', event: 'granted' }),
      targets,
    );
    const toRequester = slack.posts.filter((p) => p.audience === 'requester');
    assert.deepEqual(
      toRequester.map((p) => p.event),
      ['requested', 'granted'],
    );
  });

  it('sends a batch in order, skipping a message that only updates copies when a later one does too', async () => {
    const slack = new RecordingAdapter('slack');
    const notifier = new Notifier([slack], store, testLog);
    const targets = [{ platform: 'slack' as const, channel: 'access' }];
    const m = (over: Partial<RequestMessage>) => message({ requestId: 'req_batch', ...over });
    // requested + approved: the first posts (and tells the requester), the second only updates and is last.
    await notifier.publishAll([m({}), m({ status: 'APPROVED', event: 'approved' })], targets);
    assert.deepEqual(
      slack.posts.map((p) => p.event),
      ['requested', 'requested'],
      'the request in the channel and to the requester',
    );
    assert.deepEqual(
      slack.updates.map((u) => u.status),
      ['APPROVED', 'APPROVED'],
      'the last message brings both copies up to date',
    );
    slack.updates.length = 0;
    // revoking then revoked: only revoked is sent (it updates every copy and tells the requester).
    await notifier.publishAll(
      [m({ status: 'REVOKING', event: 'revoking' }), m({ status: 'REVOKED', event: 'revoked' })],
      targets,
    );
    assert.deepEqual(
      slack.updates.map((u) => u.status),
      ['REVOKED', 'REVOKED'],
      'no copy is updated to REVOKING on its way to REVOKED',
    );
    assert.deepEqual(
      slack.posts.map((p) => p.event),
      ['requested', 'requested', 'revoked'],
    );
  });

  it('alerts operators through the alert targets', async () => {
    const slack = new RecordingAdapter('slack');
    const notifier = new Notifier([slack], store, testLog);
    await notifier.alert([{ platform: 'slack', channel: 'ops' }], {
      requestId: 'req_x',
      text: 'revoke failing',
    });
    assert.deepEqual(slack.alerts, ['revoke failing']);
  });
});
