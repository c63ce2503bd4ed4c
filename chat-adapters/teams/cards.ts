/**
 * Adaptive Card (schema 1.4) rendering of request messages for Teams, with Universal Actions (Action.Execute,
 * which Teams delivers to the bot as an `adaptiveCard/action` invoke). Pure: no I/O, so the adapter, the bot and
 * the tests all render the same way. The building blocks, the request form and the list card live in
 * form-cards.ts and are re-exported from here.
 */
import type { Attachment } from 'botbuilder';
import { formatDuration } from '../../policy/duration';
import type { Audience, RequestMessage } from '../types';
import {
  card,
  cardDate,
  md,
  text,
  TEXT_MAX,
  what,
  type AdaptiveCard,
  type CardAction,
  type CardElement,
  type ExecuteAction,
  type InputText,
  type ShowCardAction,
  type TextBlock,
} from './form-cards';
import { INPUTS, VERBS } from './ids';
import { statusText, type StatusFormat } from '../words';

const TEAMS_FORMAT: StatusFormat = { date: (iso) => cardDate(iso), userText: (t, max) => md(t, max) };

export * from './form-cards';

/** The content type Teams expects for an Adaptive Card attachment. */
export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

/** Wraps a card as a Bot Framework attachment. */
export function cardAttachment(c: AdaptiveCard): Attachment {
  return { contentType: ADAPTIVE_CARD_CONTENT_TYPE, content: c };
}

/** A card of one text, for short answers (an unknown person, a refusal, an alert). */
export function textCard(t: string): AdaptiveCard {
  return card([text(t)]);
}

/** One subtle line per decision: who, when and, for a denial, why. */
function decisionBlocks(m: RequestMessage): TextBlock[] {
  return m.decisions.map((d) => {
    const verb = d.decision === 'approve' ? 'Approved' : 'Denied';
    const comment = d.comment ? `: ${md(d.comment, TEXT_MAX.comment)}` : '';
    return text(`${verb} by ${md(d.approver)} at ${cardDate(d.at)}${comment}`, { isSubtle: true });
  });
}

function execute(title: string, verb: string, requestId: string, extra: Partial<ExecuteAction> = {}) {
  return { type: 'Action.Execute', title, verb, data: { requestId }, ...extra } satisfies ExecuteAction;
}

/** A button that reveals one required text input and the Action.Execute that sends it. */
function askThen(o: { title: string; input: InputText; submit: ExecuteAction }): ShowCardAction {
  return {
    type: 'Action.ShowCard',
    title: o.title,
    card: { type: 'AdaptiveCard', body: [o.input], actions: [o.submit] },
  };
}

/** Approve, and Deny behind a required reason; or a single portal link when the flow wants a step-up first. */
export function decisionActions(requestId: string, stepUpUrl?: string): CardAction[] {
  if (stepUpUrl) return [{ type: 'Action.OpenUrl', title: 'Review in the portal', url: stepUpUrl }];
  const reason: InputText = {
    type: 'Input.Text',
    id: INPUTS.denyReason,
    label: 'Why are you denying it?',
    isMultiline: true,
    isRequired: true,
    errorMessage: 'Say why, so the requester knows what to change.',
    maxLength: TEXT_MAX.comment,
  };
  return [
    execute('Approve', VERBS.approve, requestId, { style: 'positive', associatedInputs: 'none' }),
    askThen({
      title: 'Deny',
      input: reason,
      submit: execute('Deny', VERBS.deny, requestId, { style: 'destructive' }),
    }),
  ];
}

/** Extend by a typed duration, and Revoke now, for the holder of an active grant. */
export function grantActions(requestId: string): CardAction[] {
  const extendBy: InputText = {
    type: 'Input.Text',
    id: INPUTS.extendBy,
    label: 'Extend by',
    placeholder: 'e.g. 30m, 1h',
    isRequired: true,
    errorMessage: 'Type a duration such as 30m or 1h.',
    maxLength: 20,
  };
  return [
    askThen({ title: 'Extend', input: extendBy, submit: execute('Extend', VERBS.extend, requestId) }),
    execute('Revoke now', VERBS.revoke, requestId, { style: 'destructive', associatedInputs: 'none' }),
  ];
}

function approverCard(m: RequestMessage, audience: Audience, now: Date, stepUpUrl?: string): AdaptiveCard {
  const body: CardElement[] = [
    text(`Access request from ${md(m.requester)}`, { size: 'medium', weight: 'bolder' }),
    {
      type: 'FactSet',
      facts: [
        { title: 'Who', value: md(m.requester) },
        { title: 'What', value: `${what(m)} (flow ${md(m.flow)})` },
        { title: 'Why', value: m.reason ? md(m.reason, TEXT_MAX.reason) : '(none)' },
        { title: 'For how long', value: formatDuration(m.durationMs) },
      ],
    },
    // Not a fact: Adaptive Cards only promise DATE/TIME formatting in TextBlocks.
    text(`**Status:** ${statusText(m, 'approvers', TEAMS_FORMAT, now)}`),
    ...decisionBlocks(m),
  ];
  // Admins see the request but only approvers decide, and only while it is open.
  const open = m.status === 'PENDING_APPROVAL' && audience === 'approvers';
  return card(body, open ? decisionActions(m.requestId, stepUpUrl) : []);
}

function requesterCard(m: RequestMessage, now: Date): AdaptiveCard {
  const body: CardElement[] = [];
  if (m.autoApprove && m.event === 'granted' && m.status === 'ACTIVE') {
    const until = m.expiresAt ? ` until ${cardDate(m.expiresAt)}` : '';
    body.push(
      text(`Access granted automatically${until}`, { size: 'medium', weight: 'bolder' }),
      text(`${what(m)} (flow ${md(m.flow)}), for ${formatDuration(m.durationMs)}.`),
      text(
        `To use it, connect to ${md(m.resource)} as you usually do: your account now has ` +
          `**${md(m.permission)}** on it.`,
      ),
    );
  } else {
    body.push(
      text('Your access request', { size: 'medium', weight: 'bolder' }),
      {
        type: 'FactSet',
        facts: [
          { title: 'What', value: `${what(m)} (flow ${md(m.flow)})` },
          { title: 'For how long', value: formatDuration(m.durationMs) },
          { title: 'Why', value: m.reason ? md(m.reason, TEXT_MAX.reason) : '(none)' },
        ],
      },
      text(statusText(m, 'requester', TEAMS_FORMAT, now), { weight: 'bolder' }),
    );
  }
  if (m.event === 'reminder' && m.status === 'ACTIVE' && m.expiresAt) {
    const left = formatDuration(Math.max(0, Date.parse(m.expiresAt) - now.getTime()));
    body.push(text(`⏳ Your access ends in ${left} (${cardDate(m.expiresAt)}).`, { color: 'warning' }));
  }
  body.push(...decisionBlocks(m));
  return card(body, m.status === 'ACTIVE' ? grantActions(m.requestId) : []);
}

/**
 * Renders a request for one audience: approvers get who/what/why/how long with Approve and Deny while it is
 * open (or a portal link when `stepUpUrl` is set), the requester gets the status in plain words and, while the
 * grant is active, Extend and Revoke now. Every Action.Execute carries the request id. `now` is for tests.
 */
export function requestCard(
  message: RequestMessage,
  audience: Audience,
  opts: { stepUpUrl?: string; now?: Date } = {},
): AdaptiveCard {
  const now = opts.now ?? new Date();
  return audience === 'requester'
    ? requesterCard(message, now)
    : approverCard(message, audience, now, opts.stepUpUrl);
}
