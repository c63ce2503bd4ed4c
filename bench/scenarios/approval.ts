/**
 * Scenario 3, approval to access: a request of the Slack-approved flow is made through the API; once the
 * worker has posted it to the approvers' channel (on the fake Slack Web API), the approver clicks Approve — a
 * block_actions payload POSTed to /slack/events, signed as Slack signs it. Timed from that click to the grant
 * committed (`request.granted` audit `at`), with as many in flight as the loaded time-to-access scenario.
 */
import { ACTIONS } from '../../chat-adapters/slack/ids';
import { blockActionPayload, createSlackSender } from '../../test/helpers/slack-requests';
import type { FakeSlackMessage } from '../../test/fakes/slack-api';
import type { BenchContext, Grant } from '../context';
import { APPROVAL_CHANNEL, APPROVER_SLACK_ID, FLOW_APPROVED } from '../people';
import { closedLoop, sleep, summarize, type Summary } from '../stats';
import { breakdown, grantAndCheck, type SpotCheck } from './access';
import { requestTimes } from '../observe';

export interface ApprovalResult {
  requests: number;
  concurrency: number;
  failed: number;
  /** Approve click sent → `request.granted` audit `at`. */
  latencyMs: Summary;
  samples: number[];
  /** Click sent → Slack's HTTP answer (Bolt acknowledges before it acts). */
  ackMs: Summary;
  /** Click sent → `request.approval` audit `at` (the decision recorded by the workflow). */
  toDecisionMs: Summary;
  /** Request made → its message with Approve posted in the approvers' channel (seen by the bench). */
  toMessageMs: Summary;
  /** Where the time goes after the click, step by step (p50 and p99). */
  breakdownMs: Record<string, Summary>;
  spotChecks: SpotCheck;
  errors: string[];
}

export async function runApproval(b: BenchContext): Promise<ApprovalResult> {
  const n = b.o.approvalRequests;
  const c = b.o.loadedConcurrency;
  // Long enough that nothing expires while the scenario measures; revoked early right after.
  const durationMs = 3_600_000;
  const every = Math.max(1, Math.floor(n / b.o.spotChecks));
  const sender = createSlackSender({
    url: `${b.stack.apiUrl}/slack/events`,
    signingSecret: b.stack.slackSecret,
  });
  const check = { presentAfterAudit: 0, checked: 0, diffs: [] as number[] };
  const latency: number[] = [];
  const ack: number[] = [];
  const toDecision: number[] = [];
  const toMessage: number[] = [];
  const errors: string[] = [];
  const ids: string[] = [];
  const clicks = new Map<string, number>();

  const messageFor = async (id: string, timeoutMs: number): Promise<FakeSlackMessage | undefined> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const m = b.stack.slack
        .messages(APPROVAL_CHANNEL)
        .find((x) => x.blocks !== undefined && JSON.stringify(x.blocks).includes(id));
      if (m && JSON.stringify(m.blocks).includes(ACTIONS.approve)) return m;
      await sleep(10);
    }
    return undefined;
  };

  const one = async (i: number, measured: boolean) => {
    const pair = b.pool.take();
    const spot = measured && i % every === 0;
    const g: Grant = await b.create(FLOW_APPROVED, durationMs, i, pair);
    if (!g.id) {
      if (measured) errors.push(`request ${g.status}: ${g.error}`);
      return;
    }
    ids.push(g.id);
    const message = await messageFor(g.id, 30_000);
    if (!message) {
      if (measured) errors.push(`no Slack message with Approve for ${g.id}`);
      return;
    }
    if (measured) toMessage.push(Date.now() - g.sentAt);
    const dbSeen = spot ? b.watcher.watch(pair, 'present', Date.now(), 60_000) : undefined;
    const clickAt = Date.now();
    const res = await sender.interaction(
      blockActionPayload({
        userId: APPROVER_SLACK_ID,
        actionId: ACTIONS.approve,
        value: g.id,
        channelId: APPROVAL_CHANNEL,
        messageTs: message.ts,
      }),
    );
    if (!measured) {
      await b.audit.waitFor(g.id, 'granted', 60_000);
      return;
    }
    clicks.set(g.id, clickAt);
    ack.push(Date.now() - clickAt);
    if (res.status !== 200) errors.push(`click answered ${res.status}: ${res.body.slice(0, 200)}`);
    const at = await grantAndCheck(b, g, spot, dbSeen, check);
    if (at === undefined) {
      errors.push(`${g.id} not granted within 60 s of the click`);
      return;
    }
    latency.push(at - clickAt);
    const decided = b.audit.at(g.id, 'approval');
    if (decided !== undefined) toDecision.push(decided - clickAt);
  };
  b.progress.set('approval to access: warming up');
  await closedLoop(c * (b.o.quick ? 1 : 2), c, (i) => one(i, false));
  b.progress.set('approval to access (Slack)', () => `${latency.length}/${n} approved and granted`);
  await closedLoop(n, c, (i) => one(i, true));
  const times = await requestTimes(b.stack.store, [...clicks.keys()]);
  const breakdownMs = breakdown(
    [...clicks.keys()],
    ['click', 'approval', 'approved', 'granting', 'commit', 'granted'],
    (id, mark) =>
      mark === 'click'
        ? clicks.get(id)
        : mark === 'commit'
          ? times.get(id)?.grantedAt
          : b.audit.at(id, mark as 'approval' | 'approved' | 'granting' | 'granted'),
  );
  b.progress.set('approval to access: revoking its grants');
  await b.revokeNow(ids);
  return {
    requests: n,
    concurrency: c,
    failed: n - latency.length,
    latencyMs: summarize(latency),
    samples: latency,
    ackMs: summarize(ack),
    toDecisionMs: summarize(toDecision),
    toMessageMs: summarize(toMessage),
    breakdownMs,
    spotChecks: {
      checked: check.checked,
      presentAfterAudit: check.presentAfterAudit,
      auditMinusDbMs: summarize(check.diffs),
    },
    errors: errors.slice(0, 5),
  };
}
