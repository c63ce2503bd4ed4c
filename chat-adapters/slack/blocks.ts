/**
 * Block Kit rendering of request messages and of the external-select options, for Slack. Pure: no I/O, so the
 * adapter, the listeners and the tests all render the same way. Modals, the Home tab and the slash-command
 * texts live in views.ts.
 */
import type {
  ActionsBlock,
  Button,
  ConfirmationDialog,
  ContextBlock,
  KnownBlock,
  MrkdwnElement,
  PlainTextElement,
  PlainTextOption,
  SectionBlock,
} from '@slack/types';
import { formatDuration } from '../../policy/duration';
import type { Audience, RequestMessage } from '../types';
import { ACTIONS, encodeChoice, type AccessChoice } from './ids';
import { clip, statusText, type StatusFormat } from '../words';

export { clip };

const SLACK_FORMAT: StatusFormat = { date: (iso) => slackDate(iso), userText: (t, max) => esc(clip(t, max)) };

/** Slack's documented length limits for the fields this module fills. */
export const LIMITS = {
  header: 150,
  button: 75,
  option: 75,
  optionValue: 150,
  field: 2000,
  text: 3000,
  /** Options in one external-select answer. */
  options: 100,
} as const;

/** Cuts text to a Slack limit, marking the cut, and never returns the empty string Slack rejects. */

/** Escapes user text for mrkdwn, so a reason cannot ping `<!channel>` or pass off a fake link. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An ISO time that every viewer sees in their own time zone; the ISO text is the fallback. */
export function slackDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return esc(iso);
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} {time}|${new Date(ms).toISOString()}>`;
}

/** A plain_text object clipped to `max` (emoji shortcodes shown as emoji). */
export function plain(text: string, max: number = LIMITS.text): PlainTextElement {
  return { type: 'plain_text', text: clip(text, max), emoji: true };
}

/** A mrkdwn object clipped to `max`; escape user text with `esc` first. */
export function mrkdwn(text: string, max: number = LIMITS.text): MrkdwnElement {
  return { type: 'mrkdwn', text: clip(text, max) };
}

/** A section of one mrkdwn text. */
export function section(text: string): SectionBlock {
  return { type: 'section', text: mrkdwn(text) };
}

/** A context line of one mrkdwn text. */
export function context(text: string): ContextBlock {
  return { type: 'context', elements: [mrkdwn(text)] };
}

/** A button carrying `value` (a request id) back to the listeners. */
export function button(
  text: string,
  actionId: string,
  value: string,
  extra: Pick<Button, 'style' | 'url' | 'confirm'> = {},
): Button {
  return { type: 'button', text: plain(text, LIMITS.button), action_id: actionId, value, ...extra };
}

/** `resource` permission, for mrkdwn. */
export function what(o: { resource: string; permission: string }): string {
  return `\`${esc(o.resource)}\` ${esc(o.permission)}`;
}

/** Approve and Deny, or a single link to the portal when the flow wants a step-up first. */
export function decisionButtons(requestId: string, stepUpUrl?: string): ActionsBlock {
  if (stepUpUrl)
    return {
      type: 'actions',
      elements: [button('Review in the portal', ACTIONS.stepUp, requestId, { url: stepUpUrl })],
    };
  return {
    type: 'actions',
    elements: [
      button('Approve', ACTIONS.approve, requestId, { style: 'primary' }),
      button('Deny', ACTIONS.deny, requestId, { style: 'danger' }),
    ],
  };
}

/** Extend, and Revoke now behind a confirmation, for the holder of an active grant. */
export function grantButtons(requestId: string, resource: string): ActionsBlock {
  const confirm: ConfirmationDialog = {
    title: plain('Revoke access now?', 100),
    text: plain(`You lose access to ${resource} right away.`, 300),
    confirm: plain('Revoke', 30),
    deny: plain('Keep access', 30),
    style: 'danger',
  };
  return {
    type: 'actions',
    elements: [
      button('Extend', ACTIONS.extend, requestId),
      button('Revoke now', ACTIONS.revoke, requestId, { style: 'danger', confirm }),
    ],
  };
}

/** One line per decision: who, when and, for a denial, why. */
function decisionLines(m: RequestMessage): string {
  return m.decisions
    .map((d) => {
      const verb = d.decision === 'approve' ? 'Approved' : 'Denied';
      const comment = d.comment ? `: ${esc(clip(d.comment, 500))}` : '';
      return `${verb} by ${esc(d.approver)} at ${slackDate(d.at)}${comment}`;
    })
    .join('\n');
}

function field(label: string, value: string): MrkdwnElement {
  return mrkdwn(`*${label}*\n${value}`, LIMITS.field);
}

function approverBlocks(m: RequestMessage, audience: Audience, now: Date, stepUpUrl?: string): KnownBlock[] {
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain(`Access request from ${m.requester}`, LIMITS.header) },
    {
      type: 'section',
      fields: [
        field('Who', esc(m.requester)),
        field('What', `${what(m)} (flow ${esc(m.flow)})`),
        field('Why', m.reason ? esc(clip(m.reason, 1800)) : '(none)'),
        field('For how long', formatDuration(m.durationMs)),
        field('Status', statusText(m, 'approvers', SLACK_FORMAT, now)),
      ],
    },
  ];
  // Admins see the request but only approvers decide, and only while it is open.
  if (m.status === 'PENDING_APPROVAL' && audience === 'approvers')
    blocks.push(decisionButtons(m.requestId, stepUpUrl));
  const decisions = decisionLines(m);
  if (decisions) blocks.push(context(decisions));
  return blocks;
}

function requesterBlocks(m: RequestMessage, now: Date): KnownBlock[] {
  const blocks: KnownBlock[] = [];
  if (m.autoApprove && m.event === 'granted' && m.status === 'ACTIVE') {
    const until = m.expiresAt ? ` until ${slackDate(m.expiresAt)}` : '';
    blocks.push(
      section(`Access granted automatically${until}: ${what(m)} (flow ${esc(m.flow)}).`),
      section(
        `To use it, connect to \`${esc(m.resource)}\` as you usually do: ` +
          `your account now has *${esc(m.permission)}* on it.`,
      ),
    );
  } else {
    const why = m.reason ? esc(clip(m.reason, 1800)) : '(none)';
    blocks.push(
      section(`*Your request:* ${what(m)} for ${formatDuration(m.durationMs)}\n*Why:* ${why}`),
      section(statusText(m, 'requester', SLACK_FORMAT, now)),
    );
  }
  if (m.event === 'reminder' && m.status === 'ACTIVE' && m.expiresAt) {
    const left = formatDuration(Math.max(0, Date.parse(m.expiresAt) - now.getTime()));
    blocks.push(section(`:hourglass: Your access ends in ${left} (${slackDate(m.expiresAt)}).`));
  }
  const decisions = decisionLines(m);
  if (decisions) blocks.push(context(decisions));
  if (m.status === 'ACTIVE') blocks.push(grantButtons(m.requestId, m.resource));
  return blocks;
}

function fallbackText(m: RequestMessage, audience: Audience, now: Date): string {
  const asked = `${what(m)} for ${formatDuration(m.durationMs)}`;
  if (audience === 'requester')
    return clip(`Your request for ${asked}: ${statusText(m, 'requester', SLACK_FORMAT, now)}`, LIMITS.text);
  return clip(
    `${esc(m.requester)} requests ${asked}: ${statusText(m, 'approvers', SLACK_FORMAT, now)}`,
    LIMITS.text,
  );
}

/**
 * Renders a request for one audience: approvers get who/what/why/how long with Approve and Deny while it is
 * open (or a portal link when `stepUpUrl` is set), the requester gets the status in plain words and, while the
 * grant is active, Extend and Revoke now. `text` is the notification fallback. `now` is for tests.
 */
export function requestMessage(
  message: RequestMessage,
  audience: Audience,
  opts: { stepUpUrl?: string; now?: Date } = {},
): { text: string; blocks: KnownBlock[] } {
  const now = opts.now ?? new Date();
  const blocks =
    audience === 'requester'
      ? requesterBlocks(message, now)
      : approverBlocks(message, audience, now, opts.stepUpUrl);
  return { text: fallbackText(message, audience, now), blocks };
}

/** One requestable piece of access as the options source knows it. */
export interface AccessOptionSource {
  choice: AccessChoice;
  label: string;
  description?: string;
}

function matches(c: AccessOptionSource, terms: string[]): boolean {
  const hay = `${c.choice.flow} ${c.choice.resource} ${c.choice.permission} ${c.label}`.toLowerCase();
  return terms.every((t) => hay.includes(t));
}

/**
 * Answers the external select's options request: the choices matching every word of `query`
 * (case-insensitive, over flow, resource, permission and label), at most `limit` (Slack takes 100).
 * Choices whose encoded value is over Slack's 150 characters are left out: Slack would reject the answer.
 */
export function accessOptions(
  choices: readonly AccessOptionSource[],
  query: string,
  limit: number = LIMITS.options,
): { options: PlainTextOption[] } {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  const max = Math.min(limit, LIMITS.options);
  const options: PlainTextOption[] = [];
  for (const c of choices) {
    if (options.length >= max) break;
    if (terms.length > 0 && !matches(c, terms)) continue;
    const value = encodeChoice(c.choice);
    if (value.length > LIMITS.optionValue) continue;
    const label = c.label || `${c.choice.resource} ${c.choice.permission}`;
    const option: PlainTextOption = { text: plain(label, LIMITS.option), value };
    if (c.description) option.description = plain(c.description, LIMITS.option);
    options.push(option);
  }
  return { options };
}
