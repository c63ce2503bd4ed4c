/**
 * Block Kit rendering for Slack: what approvers and requesters see in each state, the modals, the Home tab,
 * the external-select options (fast, capped, decodable), and that every text stays within Slack's limits.
 */
import assert from 'node:assert/strict';
import type { KnownBlock } from '@slack/types';
import { accessOptions, requestMessage } from '../chat-adapters/slack/blocks';
import { ACTIONS, BLOCKS, CALLBACKS, decodeChoice, type AccessChoice } from '../chat-adapters/slack/ids';
import {
  denyReasonModal,
  extendModal,
  helpText,
  homeView,
  listText,
  requestModal,
  type RequestSummary,
} from '../chat-adapters/slack/views';
import type { RequestMessage } from '../chat-adapters/types';

const NOW = new Date('2025-03-01T10:00:00.000Z');

function msg(over: Partial<RequestMessage> = {}): RequestMessage {
  return {
    requestId: 'req-123',
    requester: 'alice@example.com',
    flow: 'db-read',
    resource: 'orders-db',
    permission: 'read',
    reason: 'INC-42: checking <!channel> orders',
    durationMs: 3_600_000,
    status: 'PENDING_APPROVAL',
    decisions: [],
    approvers: ['bob@example.com', 'carol@example.com'],
    requiredApprovals: 2,
    autoApprove: false,
    event: 'requested',
    ...over,
  };
}

type AnyObj = Record<string, unknown>;

/** Every node of a JSON-like tree, to find elements and texts wherever Slack nests them. */
function walk(node: unknown, out: AnyObj[] = []): AnyObj[] {
  if (Array.isArray(node)) for (const n of node) walk(n, out);
  else if (node && typeof node === 'object') {
    out.push(node as AnyObj);
    for (const v of Object.values(node)) walk(v, out);
  }
  return out;
}

const buttons = (blocks: unknown) => walk(blocks).filter((n) => n.type === 'button');
const allText = (blocks: unknown) =>
  walk(blocks)
    .filter((n) => n.type === 'mrkdwn' || n.type === 'plain_text')
    .map((n) => String(n.text))
    .join('\n');

/** Slack's limits on plain_text fields by where they sit; checked on every rendered surface below. */
function assertWithinLimits(root: unknown): void {
  for (const n of walk(root)) {
    if (n.type === 'header') assert.ok(String((n.text as AnyObj).text).length <= 150, 'header ≤150');
    if (n.type === 'button') assert.ok(String((n.text as AnyObj).text).length <= 75, 'button ≤75');
    if (n.type === 'plain_text' || n.type === 'mrkdwn') {
      assert.ok(String(n.text).length >= 1 && String(n.text).length <= 3000, 'text 1..3000');
    }
    if (Array.isArray(n.fields)) {
      assert.ok(n.fields.length <= 10);
      for (const f of n.fields as AnyObj[]) assert.ok(String(f.text).length <= 2000, 'field ≤2000');
    }
  }
}

describe('Slack blocks', () => {
  it('shows approvers who, what, why, how long, and Approve/Deny carrying the request id while pending', () => {
    const { text, blocks } = requestMessage(msg(), 'approvers', { now: NOW });
    const all = allText(blocks);
    for (const want of [
      'alice@example.com',
      'orders-db',
      'read',
      'db-read',
      'INC-42',
      '1h',
      '0 of 2 approvals',
    ])
      assert.ok(all.includes(want), `missing ${want}`);
    assert.ok(!all.includes('<!channel>'), 'user text is escaped so it cannot ping the channel');
    assert.ok(all.includes('&lt;!channel&gt;'));
    const [approve, deny] = buttons(blocks);
    assert.deepEqual(
      [approve.action_id, approve.value, approve.style],
      [ACTIONS.approve, 'req-123', 'primary'],
    );
    assert.deepEqual([deny.action_id, deny.value, deny.style], [ACTIONS.deny, 'req-123', 'danger']);
    assert.ok(text.includes('alice@example.com') && text.includes('orders-db'));
    assertWithinLimits(blocks);
  });

  it('shows N-of-M progress and the approvals so far', () => {
    const decisions = [
      { approver: 'bob@example.com', decision: 'approve' as const, at: NOW.toISOString(), channel: 'slack' },
    ];
    const all = allText(requestMessage(msg({ decisions }), 'approvers', { now: NOW }).blocks);
    assert.ok(all.includes('1 of 2 approvals'));
    assert.ok(all.includes('Approved by bob@example.com at <!date^1740823200^'));
  });

  it('drops the buttons once decided and shows who decided, when, and why', () => {
    const at = '2025-03-01T10:05:00.000Z';
    const approved = requestMessage(
      msg({
        status: 'ACTIVE',
        event: 'granted',
        expiresAt: '2025-03-01T11:05:00.000Z',
        decisions: [
          { approver: 'bob@example.com', decision: 'approve', at, channel: 'slack' },
          { approver: 'carol@example.com', decision: 'approve', at, channel: 'slack' },
        ],
      }),
      'approvers',
      { now: NOW },
    );
    assert.equal(
      approved.blocks.some((b) => b.type === 'actions'),
      false,
    );
    const text = allText(approved.blocks);
    const unix = Date.parse(at) / 1000;
    assert.ok(
      text.includes(`Approved by bob@example.com at <!date^${unix}^{date_short_pretty} {time}|${at}>`),
    );
    assert.ok(text.includes('Approved by carol@example.com'));
    assert.ok(text.includes('Access active until <!date^'));

    const denied = requestMessage(
      msg({
        status: 'DENIED',
        event: 'denied',
        decisions: [
          { approver: 'bob@example.com', decision: 'deny', comment: 'use staging', at, channel: 'slack' },
        ],
      }),
      'approvers',
    );
    assert.equal(buttons(denied.blocks).length, 0);
    assert.match(allText(denied.blocks), /Denied by bob@example\.com at <!date\^\d+\^.*>: use staging/);
  });

  it('states each final status in words', () => {
    const cases: [Partial<RequestMessage>, string][] = [
      [{ status: 'EXPIRED', event: 'expired' }, 'Expired: nobody decided in time'],
      [{ status: 'CANCELLED', event: 'cancelled' }, 'Cancelled by the requester'],
      [{ status: 'REVOKED', event: 'revoked' }, 'Revoked at <!date^'],
      [{ status: 'GRANT_FAILED', event: 'grant_failed', note: 'db down' }, 'Grant failed: db down'],
    ];
    for (const [over, want] of cases) {
      const { blocks } = requestMessage(msg(over), 'approvers', { now: NOW });
      assert.ok(allText(blocks).includes(want), want);
      assert.equal(buttons(blocks).length, 0, `${over.status} has no buttons`);
    }
  });

  it('renders a single portal link instead of Approve/Deny when the flow wants a step-up', () => {
    const url = 'https://grantflow.example.com/requests/req-123';
    const { blocks } = requestMessage(msg(), 'approvers', { stepUpUrl: url });
    const found = buttons(blocks);
    assert.equal(found.length, 1);
    assert.deepEqual([found[0].action_id, found[0].url], [ACTIONS.stepUp, url]);
    assert.equal((found[0].text as AnyObj).text, 'Review in the portal');
    assert.ok(!found.some((b) => b.action_id === ACTIONS.approve));
  });

  it('gives admins the request without Approve/Deny', () => {
    assert.equal(buttons(requestMessage(msg(), 'admins').blocks).length, 0);
  });

  it('gives the requester Extend and a confirmed Revoke now while active, and the reminder', () => {
    const expiresAt = '2025-03-01T10:15:00.000Z';
    const { blocks } = requestMessage(msg({ status: 'ACTIVE', event: 'reminder', expiresAt }), 'requester', {
      now: NOW,
    });
    const text = allText(blocks);
    assert.ok(text.includes(`Granted until <!date^${Date.parse(expiresAt) / 1000}^`));
    assert.ok(text.includes('Your access ends in 15m'));
    const [extend, revoke] = buttons(blocks);
    assert.deepEqual([extend.action_id, extend.value], [ACTIONS.extend, 'req-123']);
    assert.deepEqual([revoke.action_id, revoke.value, revoke.style], [ACTIONS.revoke, 'req-123', 'danger']);
    assert.ok(revoke.confirm, 'Revoke now asks for confirmation');
    assertWithinLimits(blocks);
  });

  it('tells the requester where a sign-in made for them waits, never the sign-in', () => {
    const m = msg({
      status: 'ACTIVE',
      event: 'granted',
      expiresAt: '2025-03-01T10:15:00.000Z',
      signIn: true,
    });
    const text = allText(requestMessage(m, 'requester').blocks);
    assert.ok(text.includes('A sign-in was made for you alone'));
    assert.ok(text.includes('grantflow credentials req-123'));
    assert.ok(
      !allText(requestMessage(m, 'approvers').blocks).includes('sign-in'),
      'only the requester hears of it',
    );
  });

  it('tells the requester the outcome in plain words, without buttons once over', () => {
    const pending = requestMessage(msg(), 'requester');
    assert.ok(allText(pending.blocks).includes('Waiting for approval'));
    assert.equal(buttons(pending.blocks).length, 0);
    const revoked = requestMessage(msg({ status: 'REVOKED', event: 'revoked' }), 'requester');
    assert.ok(allText(revoked.blocks).includes('Your access has been revoked'));
    assert.equal(buttons(revoked.blocks).length, 0);
  });

  it('says when access was granted automatically, until when, and how to use it', () => {
    const expiresAt = '2025-03-01T11:00:00.000Z';
    const { blocks } = requestMessage(
      msg({ autoApprove: true, status: 'ACTIVE', event: 'granted', expiresAt }),
      'requester',
    );
    const text = allText(blocks);
    assert.ok(text.includes('granted automatically'));
    assert.ok(text.includes(`until <!date^${Date.parse(expiresAt) / 1000}^`));
    assert.ok(text.includes('`orders-db`') && text.includes('*read*'));
  });

  it('keeps long user input within Slack limits', () => {
    const long = 'x'.repeat(5000);
    const { blocks } = requestMessage(
      msg({ requester: `${long}@example.com`, reason: long, resource: long, note: long }),
      'approvers',
    );
    assertWithinLimits(blocks);
  });

  it('builds the request modal with the three inputs', () => {
    const view = requestModal({ initialDurationText: '1h', privateMetadata: 'C123' });
    assert.equal(view.type, 'modal');
    assert.equal(view.callback_id, CALLBACKS.request);
    assert.equal(view.title.text, 'Request access');
    assert.equal(view.submit?.text, 'Request');
    assert.equal(view.private_metadata, 'C123');
    const inputs = view.blocks as unknown as AnyObj[];
    assert.deepEqual(
      inputs.map((b) => b.block_id),
      [BLOCKS.access, BLOCKS.duration, BLOCKS.reason],
    );
    const [access, duration, reason] = inputs.map((b) => b.element as AnyObj);
    assert.deepEqual(
      [access.type, access.action_id, access.min_query_length],
      ['external_select', ACTIONS.access, 0],
    );
    assert.deepEqual(
      [duration.type, duration.action_id, duration.initial_value],
      ['plain_text_input', 'value', '1h'],
    );
    assert.deepEqual([reason.multiline, inputs[2].optional], [true, true]);
    assert.ok(String((inputs[1].hint as AnyObj).text).includes('30m'));
    assert.ok(view.title.text.length <= 24);
  });

  it('builds the deny-reason and extend modals around the request id', () => {
    const deny = denyReasonModal('req-9');
    assert.deepEqual([deny.callback_id, deny.private_metadata], [CALLBACKS.denyReason, 'req-9']);
    const denyInput = deny.blocks[0] as unknown as AnyObj;
    assert.deepEqual(
      [denyInput.block_id, denyInput.optional, (denyInput.element as AnyObj).action_id],
      [BLOCKS.denyReason, false, 'value'],
    );
    const extend = extendModal('req-9');
    assert.deepEqual([extend.callback_id, extend.private_metadata], [CALLBACKS.extend, 'req-9']);
    assert.equal((extend.blocks[0] as unknown as AnyObj).block_id, BLOCKS.extendBy);
  });

  it('filters and caps 5000 choices quickly, with values that decode back', () => {
    const choices = Array.from({ length: 5000 }, (_, i) => {
      const choice: AccessChoice = {
        flow: `flow-${i % 7}`,
        resource: `db-${i}`,
        permission: i % 2 ? 'read' : 'write',
      };
      return { choice, label: `Database ${i} (${choice.permission})`, description: 'd'.repeat(200) };
    });
    const started = performance.now();
    const all = accessOptions(choices, '');
    const some = accessOptions(choices, 'DB-12 WRITE');
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 50, `took ${elapsed} ms`);
    assert.equal(all.options.length, 100);
    assert.ok(some.options.length > 0 && some.options.length <= 100);
    for (const o of some.options) {
      const c = decodeChoice(o.value!);
      assert.ok(c && c.resource.startsWith('db-12') && c.permission === 'write', o.value);
      assert.ok(o.text.text.length <= 75 && o.description!.text.length <= 75);
    }
    assert.equal(accessOptions(choices, 'nothing-like-this').options.length, 0);
    assert.equal(accessOptions(choices, '', 10).options.length, 10);
    const long = accessOptions([{ choice: choices[0].choice, label: 'L'.repeat(200) }], '');
    assert.equal(long.options[0].text.text.length, 75);
  });

  it('renders the Home tab with buttons per request and plain empty states', () => {
    const row = (id: string, status: RequestSummary['status']): RequestSummary => ({
      id,
      status,
      requester: 'alice@example.com',
      flow: 'db-read',
      resource: 'orders-db',
      permission: 'read',
      reason: 'INC-1',
      durationMs: 1_800_000,
      expiresAt: '2025-03-01T11:00:00.000Z',
    });
    const empty = homeView({ mine: [], toApprove: [] });
    assert.equal(empty.type, 'home');
    assert.ok(allText(empty.blocks).includes('Nothing is waiting for your approval'));
    assert.equal(buttons(empty.blocks).length, 0);
    const full = homeView({
      mine: [row('r-active', 'ACTIVE'), row('r-pending', 'PENDING_APPROVAL')],
      toApprove: [row('r-approve', 'PENDING_APPROVAL')],
    });
    const ids = buttons(full.blocks).map((b) => `${String(b.action_id)}:${String(b.value)}`);
    assert.deepEqual(
      ids.sort(),
      [
        `${ACTIONS.approve}:r-approve`,
        `${ACTIONS.deny}:r-approve`,
        `${ACTIONS.extend}:r-active`,
        `${ACTIONS.revoke}:r-active`,
      ].sort(),
    );
    const many = homeView({
      mine: [],
      toApprove: Array.from({ length: 80 }, (_, i) => row(`r${i}`, 'PENDING_APPROVAL')),
    });
    assert.ok(many.blocks.length <= 100, `${many.blocks.length} blocks`);
    assertWithinLimits(full.blocks);
  });

  it('writes help and list texts', () => {
    for (const cmd of ['/grantflow', '/grantflow list', '/grantflow help', 'request'])
      assert.ok(helpText().includes(cmd));
    assert.ok(listText([]).text.includes('no requests'));
    const rows: RequestSummary[] = Array.from({ length: 60 }, (_, i) => ({
      id: `r${i}`,
      status: 'REVOKED',
      requester: 'a@example.com',
      flow: 'f',
      resource: 'orders-db',
      permission: 'read',
      reason: '',
      durationMs: 60_000,
    }));
    const list = listText(rows);
    assert.ok(list.blocks.length <= 50);
    assert.ok(allText(list.blocks as KnownBlock[]).includes('`r0`'));
    assert.ok(allText(list.blocks).includes('20 older'));
  });
});
