/**
 * Adaptive Card rendering for Teams: what approvers and requesters see in each state, that every Universal
 * Action carries the request id and the inputs it needs, the request form (searchable choices, errors next to
 * their field), and that every card stays under Teams' 28 KB message limit.
 */
import assert from 'node:assert/strict';
import {
  ADAPTIVE_CARD_CONTENT_TYPE,
  CARD_BUDGET_BYTES,
  cardAttachment,
  listCard,
  md,
  requestCard,
  requestFormCard,
  textCard,
  type AdaptiveCard,
  type RequestRow,
} from '../chat-adapters/teams/cards';
import { INPUTS, VERBS } from '../chat-adapters/teams/ids';
import { decodeChoice, type AccessChoice } from '../chat-adapters/choices';
import type { RequestMessage } from '../chat-adapters/types';

const NOW = new Date('2025-03-01T10:00:00.000Z');
const TEAMS_LIMIT = 28 * 1024;

function msg(over: Partial<RequestMessage> = {}): RequestMessage {
  return {
    requestId: 'req-123',
    requester: 'alice@example.com',
    flow: 'db-read',
    resource: 'orders-db',
    permission: 'read',
    reason: 'INC-42: see [the runbook](https://evil.example.com)',
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

/** Every object of a JSON-like tree, to find elements and actions wherever a card nests them. */
function walk(node: unknown, out: AnyObj[] = []): AnyObj[] {
  if (Array.isArray(node)) for (const n of node) walk(n, out);
  else if (node && typeof node === 'object') {
    out.push(node as AnyObj);
    for (const v of Object.values(node)) walk(v, out);
  }
  return out;
}

const ofType = (card: unknown, type: string) => walk(card).filter((n) => n.type === type);
const executes = (card: unknown) => ofType(card, 'Action.Execute');
/** The visible words: TextBlocks and facts. */
const allText = (card: unknown) =>
  walk(card)
    .flatMap((n) =>
      n.type === 'TextBlock'
        ? [String(n.text)]
        : n.title && 'value' in n
          ? [`${String(n.title)}: ${String(n.value)}`]
          : [],
    )
    .join('\n');
const bytes = (card: AdaptiveCard) => Buffer.byteLength(JSON.stringify(card), 'utf8');

function assertCard(card: AdaptiveCard): void {
  assert.equal(card.type, 'AdaptiveCard');
  assert.equal(card.version, '1.4');
  assert.ok(bytes(card) < TEAMS_LIMIT, `card is ${bytes(card)} bytes`);
}

const at = '2025-03-01T10:05:00.000Z';
const teamsAt = '{{DATE(2025-03-01T10:05:00Z, SHORT)}} {{TIME(2025-03-01T10:05:00Z)}}';

describe('Teams cards', () => {
  it('shows approvers the facts, and Approve plus a Deny that needs a reason, while pending', () => {
    const card = requestCard(msg(), 'approvers', { now: NOW });
    assertCard(card);
    const facts = ofType(card, 'FactSet')[0].facts as { title: string; value: string }[];
    assert.deepEqual(
      facts.map((f) => f.title),
      ['Who', 'What', 'Why', 'For how long'],
    );
    const text = allText(card);
    for (const want of [
      'alice@example.com',
      'orders-db',
      'read',
      'db-read',
      'INC-42',
      '1h',
      '0 of 2 approvals',
    ])
      assert.ok(text.includes(want), `missing ${want}`);
    assert.ok(text.includes('\\[the runbook\\]'), 'user markdown is escaped, so no fake link');

    const [approve, deny] = card.actions ?? [];
    assert.deepEqual(approve, {
      type: 'Action.Execute',
      title: 'Approve',
      verb: VERBS.approve,
      data: { requestId: 'req-123' },
      style: 'positive',
      associatedInputs: 'none',
    });
    assert.equal(deny.type, 'Action.ShowCard');
    const reveal = deny.type === 'Action.ShowCard' ? deny.card : undefined;
    const reason = ofType(reveal, 'Input.Text');
    assert.deepEqual(
      reason.map((i) => [i.id, i.isRequired]),
      [[INPUTS.denyReason, true]],
    );
    assert.deepEqual(
      executes(reveal).map((a) => [a.verb, a.data]),
      [[VERBS.deny, { requestId: 'req-123' }]],
    );
    for (const a of executes(card)) assert.equal((a.data as AnyObj).requestId, 'req-123');
  });

  it('drops the actions once decided and shows who decided and when', () => {
    const approved = requestCard(
      msg({
        status: 'ACTIVE',
        event: 'granted',
        expiresAt: '2025-03-01T11:05:00.000Z',
        decisions: [
          { approver: 'bob@example.com', decision: 'approve', at, channel: 'teams' },
          { approver: 'carol@example.com', decision: 'approve', at, channel: 'slack' },
        ],
      }),
      'approvers',
      { now: NOW },
    );
    assert.equal(approved.actions, undefined);
    assert.equal(walk(approved).filter((n) => String(n.type).startsWith('Action.')).length, 0);
    const text = allText(approved);
    assert.ok(text.includes(`Approved by bob@example.com at ${teamsAt}`), text);
    assert.ok(text.includes('Approved by carol@example.com'));
    assert.ok(text.includes('Access active until {{DATE(2025-03-01T11:05:00Z, SHORT)}}'));

    const denied = requestCard(
      msg({
        status: 'DENIED',
        event: 'denied',
        decisions: [
          { approver: 'bob@example.com', decision: 'deny', comment: 'use staging', at, channel: 'teams' },
        ],
      }),
      'approvers',
    );
    assert.equal(denied.actions, undefined);
    assert.ok(allText(denied).includes(`Denied by bob@example.com at ${teamsAt}: use staging`));
  });

  it('states each final status in words, without actions', () => {
    const cases: [Partial<RequestMessage>, string][] = [
      [{ status: 'EXPIRED', event: 'expired' }, 'Expired'],
      [{ status: 'CANCELLED', event: 'cancelled' }, 'Cancelled'],
      [{ status: 'REVOKED', event: 'revoked', revokedAt: at }, `Revoked at ${teamsAt}`],
      [{ status: 'GRANT_FAILED', event: 'grant_failed', note: 'db down' }, 'Grant failed: db down'],
    ];
    for (const [over, want] of cases) {
      const card = requestCard(msg(over), 'approvers', { now: NOW });
      assert.ok(allText(card).includes(want), want);
      assert.equal(card.actions, undefined, `${over.status} has no actions`);
    }
  });

  it('links to the portal instead of Approve/Deny when the flow wants a step-up', () => {
    const url = 'https://grantflow.example.com/requests/req-123';
    const card = requestCard(msg({ stepUp: true }), 'approvers', { stepUpUrl: url });
    assert.deepEqual(card.actions, [{ type: 'Action.OpenUrl', title: 'Review in the portal', url }]);
    assert.equal(executes(card).length, 0);
  });

  it('gives admins the request without actions', () => {
    assert.equal(requestCard(msg(), 'admins').actions, undefined);
  });

  it('gives the requester of an active grant its end, its length, Extend (with a duration) and Revoke', () => {
    const card = requestCard(
      msg({ status: 'ACTIVE', event: 'granted', expiresAt: '2025-03-01T11:00:00.000Z' }),
      'requester',
      { now: NOW },
    );
    assertCard(card);
    assert.ok(
      allText(card).includes(
        'Granted until {{DATE(2025-03-01T11:00:00Z, SHORT)}} {{TIME(2025-03-01T11:00:00Z)}} (1h)',
      ),
    );
    const [extend, revoke] = card.actions ?? [];
    assert.equal(extend.type, 'Action.ShowCard');
    const reveal = extend.type === 'Action.ShowCard' ? extend.card : undefined;
    assert.deepEqual(
      ofType(reveal, 'Input.Text').map((i) => [i.id, i.isRequired]),
      [[INPUTS.extendBy, true]],
    );
    assert.deepEqual(
      executes(reveal).map((a) => [a.verb, a.data]),
      [[VERBS.extend, { requestId: 'req-123' }]],
    );
    assert.equal(revoke.type, 'Action.Execute');
    assert.deepEqual(revoke.type === 'Action.Execute' && [revoke.verb, revoke.data], [
      VERBS.revoke,
      { requestId: 'req-123' },
    ]);
  });

  it('tells the requester the status in plain words, reminds before the end, and explains automatic grants', () => {
    const pending = requestCard(msg(), 'requester', { now: NOW });
    assert.ok(allText(pending).includes('Waiting for approval (0 of 2 approvals)'));
    assert.equal(pending.actions, undefined, 'nothing to click while waiting');

    const reminder = requestCard(
      msg({ status: 'ACTIVE', event: 'reminder', expiresAt: '2025-03-01T10:10:00.000Z' }),
      'requester',
      { now: NOW },
    );
    assert.match(allText(reminder), /Your access ends in 10m \(\{\{DATE\(2025-03-01T10:10:00Z, SHORT\)\}\}/);

    const auto = requestCard(
      msg({ autoApprove: true, status: 'ACTIVE', event: 'granted', expiresAt: '2025-03-01T11:00:00.000Z' }),
      'requester',
      { now: NOW },
    );
    const text = allText(auto);
    assert.ok(text.includes('Access granted automatically until {{DATE(2025-03-01T11:00:00Z, SHORT)}}'));
    assert.ok(text.includes('To use it, connect to orders-db') && text.includes('**read**'));
  });

  it('keeps a card under the limit whatever the user typed', () => {
    const long = 'x'.repeat(20_000);
    const decisions = Array.from({ length: 20 }, (_, i) => ({
      approver: `approver${i}@example.com`,
      decision: 'deny' as const,
      comment: long,
      at,
      channel: 'teams',
    }));
    for (const audience of ['approvers', 'requester'] as const)
      assertCard(requestCard(msg({ reason: long, requester: long, decisions, status: 'DENIED' }), audience));
  });

  it('escapes markdown in user text and leaves plain text alone', () => {
    assert.equal(md('plain words, 1h.'), 'plain words, 1h.');
    assert.equal(md('**bold** _x_ [a](b) <at>'), '\\*\\*bold\\*\\* \\_x\\_ \\[a\\](b) \\<at\\>');
    assert.equal(md('- item\n2. second'), '\\- item\n2\\. second');
  });

  describe('request form', () => {
    const choice = (i: number): { choice: AccessChoice; label: string } => ({
      choice: {
        flow: `flow-${i}`,
        resource: `resource-number-${i}-with-a-longish-name`,
        permission: 'read-write',
      },
      label: `resource-number-${i}-with-a-longish-name — read-write`,
    });

    it('offers every choice in a searchable ChoiceSet whose values decode, with duration and reason', () => {
      const choices = Array.from({ length: 100 }, (_, i) => choice(i));
      const card = requestFormCard({ choices, defaultDurationText: '1h' });
      assertCard(card);
      const [set] = ofType(card, 'Input.ChoiceSet');
      assert.equal(set.id, INPUTS.access);
      assert.equal(set.style, 'filtered');
      const values = (set.choices as { value: string }[]).map((c) => decodeChoice(c.value));
      assert.deepEqual(
        values,
        choices.map((c) => c.choice),
      );
      const inputs = ofType(card, 'Input.Text');
      const duration = inputs.find((i) => i.id === INPUTS.duration);
      assert.deepEqual([duration?.placeholder, duration?.value], ['e.g. 30m, 1h', '1h']);
      assert.equal(inputs.find((i) => i.id === INPUTS.reason)?.isMultiline, true);
      assert.deepEqual(
        executes(card).map((a) => a.verb),
        [VERBS.request],
      );
      assert.equal(ofType(card, 'TextBlock').filter((t) => t.color === 'attention').length, 0);
    });

    it('shows an error next to its field and keeps what was typed', () => {
      const values = { access: '["flow-1","x","y"]', duration: 'soon', reason: 'INC-9' };
      const card = requestFormCard({
        choices: [choice(1)],
        values,
        error: { field: 'duration', message: '"soon" is not a duration' },
      });
      const i = card.body.findIndex((e) => e.type === 'Input.Text' && e.id === INPUTS.duration);
      assert.deepEqual(card.body[i + 1], {
        type: 'TextBlock',
        text: '"soon" is not a duration',
        wrap: true,
        color: 'attention',
        spacing: 'none',
      });
      assert.equal(ofType(card, 'TextBlock').filter((t) => t.color === 'attention').length, 1);
      const byId = Object.fromEntries(
        walk(card)
          .filter((n) => typeof n.id === 'string')
          .map((n) => [n.id, n.value]),
      );
      assert.deepEqual(byId, { access: values.access, duration: 'soon', reason: 'INC-9' });

      const access = requestFormCard({
        choices: [choice(1)],
        error: { field: 'access', message: 'Choose one' },
      });
      const j = access.body.findIndex((e) => e.type === 'Input.ChoiceSet');
      assert.equal((access.body[j + 1] as unknown as AnyObj).text, 'Choose one');
    });

    it('leaves out what does not fit in a card, and says how many', () => {
      const huge = Array.from({ length: 300 }, (_, i) => ({
        choice: {
          flow: `f${i}`.padEnd(50, 'f'),
          resource: `r${i}`.padEnd(50, 'r'),
          permission: 'p'.repeat(40),
        },
        label: 'l'.repeat(90),
      }));
      const card = requestFormCard({ choices: huge });
      assert.ok(bytes(card) <= CARD_BUDGET_BYTES);
      const shown = (ofType(card, 'Input.ChoiceSet')[0].choices as unknown[]).length;
      assert.ok(shown > 50 && shown < 300, `${shown} shown`);
      assert.ok(allText(card).includes(`${300 - shown} more not shown`));
    });
  });

  it('lists requests with their status, and says so when there are none', () => {
    const row = (over: Partial<RequestRow>): RequestRow => ({
      id: 'req-1',
      status: 'PENDING_APPROVAL',
      requester: 'alice@example.com',
      flow: 'db-read',
      resource: 'orders-db',
      permission: 'read',
      reason: 'INC-1',
      durationMs: 1_800_000,
      ...over,
    });
    const card = listCard([
      row({}),
      row({ id: 'req-2', status: 'ACTIVE', expiresAt: '2025-03-01T11:00:00.000Z', durationMs: 3_600_000 }),
    ]);
    assertCard(card);
    const text = allText(card);
    assert.ok(text.includes('**Waiting for approval**: orders-db read for 30m'));
    assert.ok(
      text.includes('**Active**: orders-db read for 1h, until {{DATE(2025-03-01T11:00:00Z, SHORT)}}'),
    );
    assert.ok(text.includes('req-2'));
    assert.ok(allText(listCard([])).includes('no pending requests'));

    const many = listCard(
      Array.from({ length: 50 }, (_, i) => row({ id: `req-${i}`, reason: 'w'.repeat(5000) })),
    );
    assertCard(many);
    assert.match(allText(many), /…and \d+ more not shown/);
  });

  it('wraps a card as an Adaptive Card attachment', () => {
    const card = textCard('Grantflow does not know you');
    assert.deepEqual(cardAttachment(card), { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: card });
    assert.equal(ADAPTIVE_CARD_CONTENT_TYPE, 'application/vnd.microsoft.card.adaptive');
    assert.deepEqual(card.body, [{ type: 'TextBlock', text: 'Grantflow does not know you', wrap: true }]);
  });
});
