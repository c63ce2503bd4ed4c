/**
 * The load: every planned request is made through the HTTP API (/api/v1, Bearer tokens) at its planned moment,
 * and the simulated approver answers approval-required ones the planned way, duplicates and decisions after a
 * deny included. Calls that meet a 5xx or no answer (Temporal away) are sent again with the same
 * Idempotency-Key, as a careful client would; every final answer is kept for the checks.
 */
import { FINAL_STATUSES, type RequestStatus } from '../workflows/definitions';
import type { ChaosStack } from './stack';
import { emailOf, FLOWS, type Plan, type PlannedRequest } from './plan';

export interface ActionRecord {
  requestIndex: number;
  requestId?: string;
  action: 'create' | 'approve' | 'deny' | 'cancel' | 'extend';
  actor: string;
  key?: string;
  /** What a correct system answers: ok (2xx) or refused (409). */
  expect: 'ok' | 'refused';
  /** The behaviour's step that sent it. */
  step: string;
  /** The last HTTP status (0: no answer). */
  status: number;
  attempts: number;
  startedAt: number;
  endedAt: number;
  message?: string;
}

export interface TrackedRequest {
  plan: PlannedRequest;
  id?: string;
  /** A create call is under way (the sampler must not judge this person's access meanwhile). */
  creating: boolean;
  createdAt?: number;
  /** The API answered 200 existing (a retried create whose first attempt had gone through). */
  existing?: boolean;
  failed?: string;
}

export interface LoadState {
  tracked: TrackedRequest[];
  actions: ActionRecord[];
  /** Duplicate and late decisions actually sent, by kind. */
  injected: Record<string, number>;
}

interface Answer {
  status: number;
  body: unknown;
}

export function newLoadState(plan: Plan): LoadState {
  return { tracked: plan.requests.map((p) => ({ plan: p, creating: false })), actions: [], injected: {} };
}

export async function runLoad(
  stack: ChaosStack,
  state: LoadState,
  t0: number,
  isStopping: () => boolean,
): Promise<void> {
  await Promise.all(
    state.tracked.map(async (t) => {
      await sleepUntil(t0 + t.plan.atMs);
      if (isStopping()) return;
      await create(stack, state, t);
      if (!t.id) return;
      if (t.plan.behaviour === 'auto') {
        if (t.plan.extendByMs > 0) await extend(stack, state, t);
        return;
      }
      await sleep(t.plan.decideAfterMs);
      await decide(stack, state, t);
    }),
  );
}

async function create(stack: ChaosStack, state: LoadState, t: TrackedRequest): Promise<void> {
  const p = t.plan;
  t.creating = true;
  try {
    const rec = await call(stack, state, {
      requestIndex: p.index,
      action: 'create',
      actor: emailOf(p.person),
      expect: 'ok',
      step: 'create',
      path: '/api/v1/requests',
      body: {
        flow: p.flow,
        resource: 'db',
        permission: p.permission,
        duration: `${p.durationMs}ms`,
        reason: `chaos request ${p.index}`,
        idempotencyKey: p.idempotencyKey,
      },
    });
    const body = rec.body as { request?: { id?: string }; existing?: boolean } | undefined;
    if (rec.status >= 200 && rec.status < 300 && body?.request?.id) {
      t.id = body.request.id;
      t.existing = body.existing === true;
      t.createdAt = Date.now();
    } else {
      t.failed = `create answered ${rec.status}: ${JSON.stringify(rec.body)}`;
    }
  } finally {
    t.creating = false;
  }
}

/** Carries out the planned behaviour; each step's expected answer goes with it. */
async function decide(stack: ChaosStack, state: LoadState, t: TrackedRequest): Promise<void> {
  const p = t.plan;
  const [a, b, c] = p.approvers;
  const two = FLOWS[p.flow].requiredApprovals === 2;
  const act = (
    action: 'approve' | 'deny' | 'cancel',
    who: string,
    key: string,
    expect: 'ok' | 'refused',
    step: string,
  ) =>
    call(stack, state, {
      requestIndex: p.index,
      requestId: t.id,
      action,
      actor: emailOf(who),
      key: `${p.idempotencyKey}-${key}`,
      expect,
      step,
      path: `/api/v1/requests/${t.id}/${action}`,
      body: action === 'deny' ? { reason: 'chaos says no' } : action === 'approve' ? { comment: step } : {},
    });
  const count = (kind: string) => (state.injected[kind] = (state.injected[kind] ?? 0) + 1);
  switch (p.behaviour) {
    case 'approve':
      await act('approve', a, 'k1', 'ok', 'approve');
      if (two) await act('approve', b, 'k2', 'ok', 'second approval');
      return;
    case 'approve-dup-same-key':
      count('duplicate-approval-same-key');
      await Promise.all([
        act('approve', a, 'k1', 'ok', 'approve'),
        act('approve', a, 'k1', 'ok', 'same approval again, same Idempotency-Key'),
      ]);
      if (two) await act('approve', b, 'k2', 'ok', 'second approval');
      return;
    case 'approve-dup-new-key':
      count('duplicate-approval-new-key');
      await act('approve', a, 'k1', 'ok', 'approve');
      await act('approve', a, 'k2', 'refused', 'same approver again, new Idempotency-Key');
      if (two) await act('approve', b, 'k3', 'ok', 'second approval');
      await act('approve', two ? c : b, 'k4', 'refused', 'one more approval once approved');
      return;
    case 'deny-then-approve':
      count('approval-after-deny');
      await act('deny', a, 'k1', 'ok', 'deny');
      await act('approve', b, 'k2', 'refused', 'approve after a deny');
      return;
    case 'cancel':
      await act('cancel', p.person, 'k1', 'ok', 'requester cancels');
      return;
    case 'ignore':
    case 'auto':
      return;
  }
}

/** The requester extends the grant once it is ACTIVE (a grant that ended first is left alone). */
async function extend(stack: ChaosStack, state: LoadState, t: TrackedRequest): Promise<void> {
  const p = t.plan;
  const actor = emailOf(p.person);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const status = await statusOf(stack, actor, t.id as string);
    if (status === 'ACTIVE') break;
    if (Date.now() > deadline || (status && FINAL_STATUSES.includes(status))) return;
    await sleep(500);
  }
  state.injected.extension = (state.injected.extension ?? 0) + 1;
  await call(stack, state, {
    requestIndex: p.index,
    requestId: t.id,
    action: 'extend',
    actor,
    key: `${p.idempotencyKey}-extend`,
    expect: 'ok',
    step: 'requester extends',
    path: `/api/v1/requests/${t.id}/extend`,
    body: { by: `${p.extendByMs}ms` },
  });
}

async function statusOf(stack: ChaosStack, actor: string, id: string): Promise<RequestStatus | undefined> {
  try {
    const res = await fetch(`${stack.apiUrl}/api/v1/requests/${id}`, {
      headers: { authorization: `Bearer ${stack.tokens.get(actor)}` },
      signal: AbortSignal.timeout(30_000),
    });
    return res.ok ? ((await res.json()) as { status: RequestStatus }).status : undefined;
  } catch {
    return undefined;
  }
}

interface CallSpec extends Omit<ActionRecord, 'status' | 'attempts' | 'startedAt' | 'endedAt' | 'message'> {
  path: string;
  body: unknown;
}

/** One API call, sent again on 5xx or no answer for up to two minutes; recorded with its final answer. */
async function call(stack: ChaosStack, state: LoadState, spec: CallSpec): Promise<ActionRecord & Answer> {
  const { path, body, ...fields } = spec;
  const token = stack.tokens.get(spec.actor);
  if (!token) throw new Error(`no API token for ${spec.actor}`);
  const startedAt = Date.now();
  const deadline = startedAt + 120_000;
  let answer: Answer = { status: 0, body: undefined };
  let attempts = 0;
  for (let wait = 500; ; wait = Math.min(wait * 2, 3_000)) {
    attempts++;
    answer = await send(
      stack.apiUrl,
      path,
      token,
      body,
      spec.key && spec.action !== 'create' ? spec.key : undefined,
    );
    if (answer.status > 0 && answer.status < 500) break;
    if (Date.now() + wait > deadline) break;
    await sleep(wait);
  }
  const message = (answer.body as { error?: { message?: string } } | undefined)?.error?.message;
  const rec: ActionRecord = {
    ...fields,
    status: answer.status,
    attempts,
    startedAt,
    endedAt: Date.now(),
    ...(message ? { message } : {}),
  };
  state.actions.push(rec);
  return { ...rec, ...answer };
}

async function send(
  base: string,
  path: string,
  token: string,
  body: unknown,
  idempotencyKey?: string,
): Promise<Answer> {
  try {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(90_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function sleepUntil(at: number): Promise<void> {
  return sleep(Math.max(0, at - Date.now()));
}
