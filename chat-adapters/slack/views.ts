/**
 * Slack views that are not request messages: the request, deny-reason and extend modals, the Home tab, and
 * the texts of `/grantflow help` and `/grantflow list`. Pure, like blocks.ts.
 */
import type { HomeView, InputBlock, KnownBlock, ModalView } from '@slack/types';
import { formatDuration } from '../../policy/duration';
import { clip, STATUS_WORDS } from '../words';
import { context, decisionButtons, esc, grantButtons, plain, section, slackDate, what } from './blocks';
import { ACTIONS, BLOCKS, CALLBACKS } from './ids';
import type { RequestRow } from '../../store/types';

/** A request as the Home tab and `/grantflow list` show it. */
export type RequestSummary = Pick<
  RequestRow,
  'id' | 'status' | 'requester' | 'flow' | 'resource' | 'permission' | 'reason' | 'durationMs' | 'expiresAt'
> & {
  /** Set when the flow requires a step-up: the Home tab links to the portal instead of Approve/Deny. */
  stepUpUrl?: string;
};

/** Short status words, for lists. */

/** Requests shown per Home-tab section: each takes two blocks, and a view holds at most 100. */
const HOME_PER_SECTION = 14;
/** Requests listed in one `/grantflow list` answer: a message holds at most 50 blocks. */
const LIST_MAX = 40;
const PRIVATE_METADATA_MAX = 3000;

function textInput(
  blockId: string,
  label: string,
  o: { multiline?: boolean; optional?: boolean; placeholder?: string; hint?: string; initial?: string },
): InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label, 2000),
    optional: o.optional ?? false,
    element: {
      type: 'plain_text_input',
      action_id: 'value',
      multiline: o.multiline ?? false,
      ...(o.placeholder ? { placeholder: plain(o.placeholder, 150) } : {}),
      ...(o.initial ? { initial_value: o.initial } : {}),
    },
    ...(o.hint ? { hint: plain(o.hint, 2000) } : {}),
  };
}

/**
 * The "Request access" modal: what (an external select fed by accessOptions), for how long, and why. The
 * justification is optional here; the server answers `response_action: errors` when a flow requires one.
 */
export function requestModal(
  opts: { initialDurationText?: string; privateMetadata?: string } = {},
): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACKS.request,
    title: plain('Request access', 24),
    submit: plain('Request', 24),
    close: plain('Cancel', 24),
    ...(opts.privateMetadata
      ? { private_metadata: opts.privateMetadata.slice(0, PRIVATE_METADATA_MAX) }
      : {}),
    blocks: [
      {
        type: 'input',
        block_id: BLOCKS.access,
        label: plain('What do you need?'),
        element: {
          type: 'external_select',
          action_id: ACTIONS.access,
          min_query_length: 0,
          placeholder: plain('Search resources', 150),
        },
      },
      textInput(BLOCKS.duration, 'For how long?', {
        hint: 'e.g. 30m, 1h, 4h',
        initial: opts.initialDurationText,
      }),
      textInput(BLOCKS.reason, 'Why do you need it?', {
        multiline: true,
        optional: true,
        placeholder: 'A ticket, an incident, or a sentence for the approvers',
      }),
    ],
  };
}

/** Asks an approver why they deny; the request id travels in private_metadata. */
export function denyReasonModal(requestId: string): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACKS.denyReason,
    private_metadata: requestId,
    title: plain('Deny request', 24),
    submit: plain('Deny', 24),
    close: plain('Cancel', 24),
    blocks: [textInput(BLOCKS.denyReason, 'Why are you denying it?', { multiline: true })],
  };
}

/** Asks the holder of a grant how much longer they need it. */
export function extendModal(requestId: string): ModalView {
  return {
    type: 'modal',
    callback_id: CALLBACKS.extend,
    private_metadata: requestId,
    title: plain('Extend access', 24),
    submit: plain('Extend', 24),
    close: plain('Cancel', 24),
    blocks: [textInput(BLOCKS.extendBy, 'Extend by', { placeholder: 'e.g. 30m', hint: 'e.g. 30m, 1h' })],
  };
}

function approvalItem(r: RequestSummary): KnownBlock[] {
  const why = r.reason ? esc(clip(r.reason, 1500)) : '(none)';
  return [
    section(`*${esc(r.requester)}* wants ${what(r)} for ${formatDuration(r.durationMs)}\n*Why:* ${why}`),
    decisionButtons(r.id, r.stepUpUrl),
  ];
}

function grantItem(r: RequestSummary): KnownBlock[] {
  const until = r.expiresAt ? ` until ${slackDate(r.expiresAt)}` : '';
  return [section(`${what(r)}${until}`), grantButtons(r.id, r.resource)];
}

function pendingItem(r: RequestSummary): KnownBlock[] {
  return [section(`${what(r)} for ${formatDuration(r.durationMs)}: ${STATUS_WORDS[r.status].toLowerCase()}`)];
}

function homeSection(
  title: string,
  rows: RequestSummary[],
  empty: string,
  item: (r: RequestSummary) => KnownBlock[],
): KnownBlock[] {
  const blocks: KnownBlock[] = [{ type: 'header', text: plain(title, 150) }];
  if (rows.length === 0) return [...blocks, section(empty)];
  for (const r of rows.slice(0, HOME_PER_SECTION)) blocks.push(...item(r));
  if (rows.length > HOME_PER_SECTION)
    blocks.push(context(`…and ${rows.length - HOME_PER_SECTION} more: see \`/grantflow list\`.`));
  return blocks;
}

/**
 * The Home tab: what waits for the viewer's approval, their active grants, and their requests still in
 * progress (pending approval, approved or being granted).
 */
export function homeView(o: { mine: RequestSummary[]; toApprove: RequestSummary[] }): HomeView {
  const active = o.mine.filter((r) => r.status === 'ACTIVE');
  const pending = o.mine.filter((r) => ['PENDING_APPROVAL', 'APPROVED', 'GRANTING'].includes(r.status));
  return {
    type: 'home',
    blocks: [
      ...homeSection(
        'Waiting for your approval',
        o.toApprove,
        'Nothing is waiting for your approval.',
        approvalItem,
      ),
      { type: 'divider' },
      ...homeSection(
        'Your active grants',
        active,
        'You have no active grants. Type `/grantflow` to request access.',
        grantItem,
      ),
      { type: 'divider' },
      ...homeSection('Your pending requests', pending, 'You have no requests waiting.', pendingItem),
    ],
  };
}

/** The answer to `/grantflow help`, in mrkdwn. */
export function helpText(): string {
  return [
    '*Grantflow* gives you access for a limited time, approved by the right people.',
    '• `/grantflow`: request access (opens a form: what, for how long, and why)',
    '• `/grantflow list`: your requests and grants',
    '• `/grantflow help`: this help',
    '• Or send me a direct message saying `request`.',
    'Approvers get a message with Approve and Deny buttons. Your grants and approvals are also in my Home tab.',
  ].join('\n');
}

function listLine(r: RequestSummary): string {
  const until = r.status === 'ACTIVE' && r.expiresAt ? ` until ${slackDate(r.expiresAt)}` : '';
  return `*${STATUS_WORDS[r.status]}*: ${what(r)} for ${formatDuration(r.durationMs)}${until} · \`${esc(r.id)}\``;
}

/** The answer to `/grantflow list`: one line per request, newest first as given. */
export function listText(rows: RequestSummary[]): { text: string; blocks: KnownBlock[] } {
  if (rows.length === 0) {
    const text = 'You have no requests yet. Type `/grantflow` to request access.';
    return { text, blocks: [section(text)] };
  }
  const shown = rows.slice(0, LIST_MAX);
  const blocks: KnownBlock[] = [
    section(`*Your requests* (${rows.length})`),
    ...shown.map((r) => section(listLine(r))),
  ];
  if (rows.length > LIST_MAX) blocks.push(context(`…and ${rows.length - LIST_MAX} older ones not shown.`));
  return { text: clip(`Your requests (${rows.length})`, 3000), blocks };
}
