/**
 * The building blocks of Grantflow's Teams cards (Adaptive Card 1.4 types, markdown escaping, localised times)
 * and the cards that are not request messages: the request form and the list of a person's requests. Pure, like
 * cards.ts, which re-exports all of this: import from there.
 */
import { formatDuration } from '../../policy/duration';
import type { FormField } from '../request-input';
import { encodeChoice, type AccessChoice } from '../choices';
import type { RequestRow as StoredRequestRow } from '../../store/types';
import { clip, STATUS_WORDS } from '../words';
import { INPUTS, VERBS, type ActionData } from './ids';

/** A TextBlock; `text` is Teams markdown, so user text must go through `md` first. */
export interface TextBlock {
  type: 'TextBlock';
  text: string;
  wrap?: boolean;
  weight?: 'default' | 'bolder' | 'lighter';
  size?: 'small' | 'default' | 'medium' | 'large';
  color?: 'default' | 'good' | 'warning' | 'attention' | 'accent';
  isSubtle?: boolean;
  separator?: boolean;
  spacing?: 'none' | 'small' | 'default' | 'medium';
}

export interface FactSet {
  type: 'FactSet';
  facts: { title: string; value: string }[];
}

export interface Container {
  type: 'Container';
  items: CardElement[];
  separator?: boolean;
}

export interface InputText {
  type: 'Input.Text';
  id: string;
  label?: string;
  placeholder?: string;
  isMultiline?: boolean;
  isRequired?: boolean;
  errorMessage?: string;
  maxLength?: number;
  value?: string;
}

export interface InputChoiceSet {
  type: 'Input.ChoiceSet';
  id: string;
  label?: string;
  placeholder?: string;
  /** `filtered` lets the person type to search the choices. */
  style: 'compact' | 'expanded' | 'filtered';
  choices: { title: string; value: string }[];
  isRequired?: boolean;
  errorMessage?: string;
  value?: string;
}

export type CardElement = TextBlock | FactSet | Container | InputText | InputChoiceSet;

/** A Universal Action: Teams posts `verb` and `data` (merged with the card's input values) to the bot. */
export interface ExecuteAction {
  type: 'Action.Execute';
  title: string;
  verb: string;
  data: ActionData;
  style?: 'default' | 'positive' | 'destructive';
  /** `none` skips validating (and sending) the card's inputs, e.g. for Approve next to a hidden deny reason. */
  associatedInputs?: 'auto' | 'none';
}

export interface OpenUrlAction {
  type: 'Action.OpenUrl';
  title: string;
  url: string;
}

/** Reveals a nested card in place, e.g. the deny-reason input and its Deny button. */
export interface ShowCardAction {
  type: 'Action.ShowCard';
  title: string;
  card: { type: 'AdaptiveCard'; body: CardElement[]; actions?: CardAction[] };
}

export type CardAction = ExecuteAction | OpenUrlAction | ShowCardAction;

export interface AdaptiveCard {
  type: 'AdaptiveCard';
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  version: '1.4';
  body: CardElement[];
  actions?: CardAction[];
}

/** Lengths user text is cut to, so that a card stays well under Teams' 28 KB message limit. */
export const TEXT_MAX = { name: 200, reason: 1500, failure: 1000, comment: 500 } as const;

/** A top-level card of `body` and `actions`. */
export function card(body: CardElement[], actions: CardAction[] = []): AdaptiveCard {
  return {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.4',
    body,
    ...(actions.length > 0 ? { actions } : {}),
  };
}

/**
 * Escapes user text for Teams markdown (backslash escapes), so a reason cannot pass off a fake link, bold text
 * or a list; it is cut to `max` first, so the escapes cannot be cut in half.
 */
export function md(text: string, max: number = TEXT_MAX.name): string {
  return clip(text, max)
    .replace(/[\\`*_[\]<>~]/g, '\\$&')
    .replace(/^(\s*)([-+]|\d+\.)(?=\s)/gm, (_all, space: string, mark: string) =>
      mark.endsWith('.') ? `${space}${mark.slice(0, -1)}\\.` : `${space}\\${mark}`,
    );
}

/** A wrapping TextBlock. */
export function text(t: string, extra: Omit<TextBlock, 'type' | 'text'> = {}): TextBlock {
  return { type: 'TextBlock', text: t, wrap: true, ...extra };
}

/**
 * A time every viewer sees in their own time zone and language, with Adaptive Cards' DATE/TIME functions. They
 * take strict RFC 3339 without fractions of a second; the ISO text is shown when `iso` is not a time.
 */
export function cardDate(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return md(iso);
  const utc = new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `{{DATE(${utc}, SHORT)}} {{TIME(${utc})}}`;
}

/** `resource` permission, for markdown. */
export function what(o: { resource: string; permission: string }): string {
  return `${md(o.resource)} ${md(o.permission)}`;
}

/**
 * The most a card may weigh, in bytes of JSON: Teams refuses messages over 28 KB, and the activity around the
 * card (conversation reference, ids) needs some room too.
 */
export const CARD_BUDGET_BYTES = 25_000;

/** Requests listed in one list card; more would make a card nobody reads. */
const LIST_MAX = 30;

/** One requestable piece of access, as `choicesFor` (request-input.ts) lists them. */
export interface FormChoice {
  choice: AccessChoice;
  label: string;
  /** Shown after the label, e.g. the flow's description, to tell apart the same access in two flows. */
  description?: string;
}

export interface RequestFormOptions {
  /** What can be requested; the ChoiceSet is filtered, so people search it by typing. */
  choices: FormChoice[];
  /** Filled in the duration field; empty means the flow's default. */
  defaultDurationText?: string;
  /** A problem with the last submission, shown in red under its field. */
  error?: { field: FormField; message: string };
  /** What was typed last time, kept when the form comes back with an error. */
  values?: { access?: string; duration?: string; reason?: string };
}

function byteSize(c: AdaptiveCard): number {
  return Buffer.byteLength(JSON.stringify(c), 'utf8');
}

function errorFor(field: FormField, o: RequestFormOptions): CardElement[] {
  if (o.error?.field !== field) return [];
  return [text(md(o.error.message, 500), { color: 'attention', spacing: 'none' })];
}

function textInput(id: string, label: string, extra: Omit<InputText, 'type' | 'id' | 'label'>): InputText {
  const input: InputText = { type: 'Input.Text', id, label, ...extra };
  if (input.value === undefined) delete input.value;
  return input;
}

/** The choices, in order, that fit in `room` bytes of JSON. */
function fitChoices(choices: FormChoice[], room: number): InputChoiceSet['choices'] {
  const fitted: InputChoiceSet['choices'] = [];
  for (const c of choices) {
    const label = c.label || `${c.choice.resource} ${c.choice.permission}`;
    const title = clip(c.description ? `${label} (${c.description})` : label, 100);
    const choice = { title, value: encodeChoice(c.choice) };
    // The choice and the comma before it.
    room -= Buffer.byteLength(JSON.stringify(choice), 'utf8') + 1;
    if (room < 0) break;
    fitted.push(choice);
  }
  return fitted;
}

/**
 * The request form: what (a searchable ChoiceSet, values from encodeChoice), for how long (empty: the flow's
 * default), and why, sent with an Action.Execute of verb `VERBS.request`. With `error`, the form comes back with
 * the problem in red under its field and the previous values filled in. Choices that would push the card over
 * Teams' size limit are left out, and the form says how many.
 */
export function requestFormCard(o: RequestFormOptions): AdaptiveCard {
  const v = o.values ?? {};
  const access: InputChoiceSet = {
    type: 'Input.ChoiceSet',
    id: INPUTS.access,
    label: 'What do you need?',
    placeholder: 'Type to search',
    style: 'filtered',
    isRequired: true,
    errorMessage: 'Choose what you need.',
    choices: [],
    ...(v.access ? { value: v.access } : {}),
  };
  const duration = v.duration ? clip(v.duration, 20) : o.defaultDurationText;
  const body: CardElement[] = [
    text('Request access', { size: 'medium', weight: 'bolder' }),
    access,
    ...errorFor('access', o),
    textInput(INPUTS.duration, 'For how long?', {
      placeholder: 'e.g. 30m, 1h',
      maxLength: 20,
      value: duration,
    }),
    ...errorFor('duration', o),
    textInput(INPUTS.reason, 'Why do you need it?', {
      placeholder: 'A ticket, an incident, or a sentence for the approvers',
      isMultiline: true,
      maxLength: TEXT_MAX.reason,
      value: v.reason ? clip(v.reason, TEXT_MAX.reason) : undefined,
    }),
    ...errorFor('reason', o),
  ];
  const form = card(body, [{ type: 'Action.Execute', title: 'Request', verb: VERBS.request, data: {} }]);
  // Room is kept for the note about choices left out.
  access.choices = fitChoices(o.choices, CARD_BUDGET_BYTES - 200 - byteSize(form));
  const left = o.choices.length - access.choices.length;
  if (left > 0) {
    const note = `${left} more not shown here: request those in the portal or with the CLI.`;
    body.splice(1, 0, text(note, { isSubtle: true }));
  }
  return form;
}

/** A request as the list card shows it. */
export type RequestRow = Pick<
  StoredRequestRow,
  'id' | 'status' | 'requester' | 'flow' | 'resource' | 'permission' | 'reason' | 'durationMs' | 'expiresAt'
>;

function rowItem(r: RequestRow): CardElement {
  const until = r.status === 'ACTIVE' && r.expiresAt ? `, until ${cardDate(r.expiresAt)}` : '';
  const why = r.reason ? md(r.reason, 300) : '(none)';
  return {
    type: 'Container',
    separator: true,
    items: [
      text(`**${STATUS_WORDS[r.status]}**: ${what(r)} for ${formatDuration(r.durationMs)}${until}`),
      text(`Flow ${md(r.flow)} · by ${md(r.requester)} · ${md(r.id)}\n\nWhy: ${why}`, {
        isSubtle: true,
        spacing: 'none',
      }),
    ],
  };
}

/** A person's pending requests and active grants, each with its status, newest first as given. */
export function listCard(rows: RequestRow[]): AdaptiveCard {
  if (rows.length === 0) return card([text('You have no pending requests and no active grants.')]);
  const body: CardElement[] = [
    text(`Your requests and grants (${rows.length})`, { size: 'medium', weight: 'bolder' }),
  ];
  const list = card(body);
  let shown = 0;
  for (const r of rows.slice(0, LIST_MAX)) {
    body.push(rowItem(r));
    if (byteSize(list) > CARD_BUDGET_BYTES - 200) {
      body.pop();
      break;
    }
    shown++;
  }
  if (shown < rows.length) body.push(text(`…and ${rows.length - shown} more not shown.`, { isSubtle: true }));
  return list;
}
