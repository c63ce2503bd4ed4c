/**
 * Sends requests to a Slack app (Bolt over HTTP) exactly as Slack does: slash commands and interactions as
 * `application/x-www-form-urlencoded`, Events API callbacks as JSON, each signed with the signing secret
 * (`X-Slack-Signature: v0=HMAC-SHA256("v0:<ts>:<raw body>")`, `X-Slack-Request-Timestamp`). Also builds
 * realistic payloads in the shapes Slack documents.
 */
import { createHmac, randomBytes } from 'node:crypto';

export const TEST_TEAM = { id: 'T0FAKE', domain: 'grantflow-test' } as const;
export const TEST_APP_ID = 'A0GRANTFLOW';
/** The deprecated verification token Slack still puts in payloads; apps must not rely on it. */
const VERIFICATION_TOKEN = 'deprecated-verification-token';

export interface SlackSendOptions {
  /** X-Slack-Request-Timestamp in Unix seconds (default: now). */
  timestamp?: number;
  /** Sign with a wrong secret, as a forger would. */
  forgeSignature?: boolean;
  /** Adds X-Slack-Retry-Num, as Slack does when it redelivers an event. */
  retryNum?: number;
  /** Adds X-Slack-Retry-Reason, e.g. `http_timeout`. */
  retryReason?: string;
}

export interface SlackResponse {
  status: number;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
}

export interface SlashCommandFields {
  command: string;
  text: string;
  user_id: string;
  channel_id?: string;
  channel_name?: string;
  user_name?: string;
  trigger_id?: string;
  response_url?: string;
  [field: string]: string | undefined;
}

export interface SlackSender {
  command(fields: SlashCommandFields, opts?: SlackSendOptions): Promise<SlackResponse>;
  /** A block_actions, view_submission, view_closed or block_suggestion payload, as `payload=<JSON>`. */
  interaction(payload: object, opts?: SlackSendOptions): Promise<SlackResponse>;
  /** An Events API callback; pass `eventId` to redeliver the same event (a retry keeps its event_id). */
  /** An Events API envelope around `event`, from TEST_TEAM unless `teamId` names another workspace. */
  event(
    event: object,
    opts?: SlackSendOptions & { eventId?: string; teamId?: string },
  ): Promise<SlackResponse>;
  urlVerification(challenge: string, opts?: SlackSendOptions): Promise<SlackResponse>;
  /** Sends any raw body with the given content type, signed. */
  raw(body: string, contentType: string, opts?: SlackSendOptions): Promise<SlackResponse>;
}

/** The value of X-Slack-Signature for a body sent at `timestamp` (Unix seconds). */
export function slackSignature(signingSecret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

const FORM = 'application/x-www-form-urlencoded';
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
let counter = 0;
const unique = (): string => `${Date.now().toString(36)}${(counter += 1).toString(36)}`.toUpperCase();
/** A trigger id in Slack's shape; a fake Web API only accepts the ones it issued itself. */
const someTrigger = (): string => `${counter + 1}.${Date.now()}.${randomBytes(16).toString('hex')}`;
const someTs = (): string => `${nowSeconds()}.${String((counter += 1) % 1_000_000).padStart(6, '0')}`;

export function createSlackSender(opts: { url: string; signingSecret: string }): SlackSender {
  const send = async (
    body: string,
    contentType: string,
    o: SlackSendOptions = {},
  ): Promise<SlackResponse> => {
    const timestamp = o.timestamp ?? nowSeconds();
    const secret = o.forgeSignature ? `${opts.signingSecret}-forged` : opts.signingSecret;
    const headers: Record<string, string> = {
      // Set by hand: Bolt compares the form content type exactly, and fetch would add `;charset=UTF-8`
      // to a URLSearchParams body.
      'content-type': contentType,
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': slackSignature(secret, timestamp, body),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    };
    if (o.retryNum !== undefined) headers['x-slack-retry-num'] = String(o.retryNum);
    if (o.retryReason !== undefined) headers['x-slack-retry-reason'] = o.retryReason;
    const res = await fetch(opts.url, { method: 'POST', headers, body });
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, body: text, json };
  };

  return {
    command(fields, o) {
      const form: Record<string, string> = {
        token: VERIFICATION_TOKEN,
        team_id: TEST_TEAM.id,
        team_domain: TEST_TEAM.domain,
        channel_id: fields.channel_id ?? 'C0GENERAL',
        channel_name: fields.channel_name ?? 'general',
        user_id: fields.user_id,
        user_name: fields.user_name ?? fields.user_id.toLowerCase(),
        command: fields.command,
        text: fields.text,
        api_app_id: TEST_APP_ID,
        is_enterprise_install: 'false',
        response_url: fields.response_url ?? `https://hooks.slack.com/commands/${TEST_TEAM.id}/1/${unique()}`,
        trigger_id: fields.trigger_id ?? someTrigger(),
      };
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) form[key] = value;
      return send(new URLSearchParams(form).toString(), FORM, o);
    },
    interaction: (payload, o) =>
      send(new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), FORM, o),
    event(event, o = {}) {
      const team = o.teamId ?? TEST_TEAM.id;
      const envelope = {
        token: VERIFICATION_TOKEN,
        team_id: team,
        api_app_id: TEST_APP_ID,
        event,
        type: 'event_callback',
        event_id: o.eventId ?? `Ev${unique()}`,
        event_time: nowSeconds(),
        authorizations: [
          {
            enterprise_id: null,
            team_id: team,
            user_id: 'UBOT',
            is_bot: true,
            is_enterprise_install: false,
          },
        ],
        is_ext_shared_channel: false,
      };
      return send(JSON.stringify(envelope), 'application/json', o);
    },
    urlVerification: (challenge, o) =>
      send(
        JSON.stringify({ token: VERIFICATION_TOKEN, challenge, type: 'url_verification' }),
        'application/json',
        o,
      ),
    raw: send,
  };
}

const userOf = (userId: string) => ({
  id: userId,
  username: userId.toLowerCase(),
  name: userId.toLowerCase(),
  team_id: TEST_TEAM.id,
});
const common = (userId: string) => ({
  user: userOf(userId),
  api_app_id: TEST_APP_ID,
  token: VERIFICATION_TOKEN,
  team: { ...TEST_TEAM },
  enterprise: null,
  is_enterprise_install: false,
});
const modalView = (viewId: string, callbackId: string, privateMetadata: string, values: ViewStateValues) => ({
  id: viewId,
  team_id: TEST_TEAM.id,
  type: 'modal',
  blocks: [],
  private_metadata: privateMetadata,
  callback_id: callbackId,
  state: { values },
  hash: someTs(),
  title: { type: 'plain_text', text: 'Grantflow', emoji: true },
  clear_on_close: false,
  notify_on_close: false,
  close: null,
  submit: null,
  previous_view_id: null,
  root_view_id: viewId,
  app_id: TEST_APP_ID,
  external_id: '',
  app_installed_team_id: TEST_TEAM.id,
  bot_id: 'BBOT',
});

/** One input's state in `view.state.values[blockId][actionId]`. */
export type ViewStateValue =
  | { type: 'plain_text_input'; value: string | null }
  | { type: 'external_select' | 'static_select'; selected_option: SelectedOption | null };
export interface SelectedOption {
  value: string;
  text: { type: 'plain_text'; text: string; emoji?: boolean };
}
export type ViewStateValues = Record<string, Record<string, ViewStateValue>>;

export const plainTextValue = (value: string | null): ViewStateValue => ({ type: 'plain_text_input', value });
export const externalSelectValue = (value: string, text: string): ViewStateValue => ({
  type: 'external_select',
  selected_option: { value, text: { type: 'plain_text', text, emoji: true } },
});

/**
 * A button click (block_actions). With `channelId` it comes from a message (`messageTs`), otherwise from the
 * view `viewId` (a modal or the Home tab).
 */
export function blockActionPayload(p: {
  userId: string;
  actionId: string;
  value: string;
  blockId?: string;
  actionTs?: string;
  channelId?: string;
  messageTs?: string;
  triggerId?: string;
  viewId?: string;
}): Record<string, unknown> {
  if (!p.channelId && !p.viewId)
    throw new Error('blockActionPayload needs channelId (a message) or viewId (a view)');
  const messageTs = p.messageTs ?? someTs();
  const fromMessage = p.channelId !== undefined;
  return {
    type: 'block_actions',
    ...common(p.userId),
    container: fromMessage
      ? { type: 'message', message_ts: messageTs, channel_id: p.channelId, is_ephemeral: false }
      : { type: 'view', view_id: p.viewId },
    trigger_id: p.triggerId ?? someTrigger(),
    ...(fromMessage
      ? {
          channel: { id: p.channelId, name: p.channelId!.startsWith('D') ? 'directmessage' : 'channel' },
          message: { type: 'message', user: 'UBOT', bot_id: 'BBOT', text: '', ts: messageTs, blocks: [] },
          response_url: `https://hooks.slack.com/actions/${TEST_TEAM.id}/1/${unique()}`,
          state: { values: {} },
        }
      : { view: modalView(p.viewId!, '', '', {}) }),
    actions: [
      {
        type: 'button',
        action_id: p.actionId,
        block_id: p.blockId ?? unique(),
        text: { type: 'plain_text', text: p.actionId, emoji: true },
        value: p.value,
        action_ts: p.actionTs ?? someTs(),
      },
    ],
  };
}

/** A modal submitted (view_submission), with its inputs in `values` (see plainTextValue, externalSelectValue). */
export function viewSubmissionPayload(p: {
  userId: string;
  callbackId: string;
  viewId: string;
  values: ViewStateValues;
  privateMetadata?: string;
  triggerId?: string;
}): Record<string, unknown> {
  return {
    type: 'view_submission',
    ...common(p.userId),
    trigger_id: p.triggerId ?? someTrigger(),
    view: modalView(p.viewId, p.callbackId, p.privateMetadata ?? '', p.values),
    response_urls: [],
  };
}

/** A modal closed with Cancel (view_closed; only sent for views opened with `notify_on_close`). */
export function viewClosedPayload(p: {
  userId: string;
  callbackId: string;
  viewId: string;
  privateMetadata?: string;
}): Record<string, unknown> {
  return {
    type: 'view_closed',
    ...common(p.userId),
    view: { ...modalView(p.viewId, p.callbackId, p.privateMetadata ?? '', {}), notify_on_close: true },
    is_cleared: false,
  };
}

/** A request for the options of an external select (block_suggestion), sent as the person types. */
export function blockSuggestionPayload(p: {
  userId: string;
  actionId: string;
  blockId: string;
  value: string;
  viewId?: string;
}): Record<string, unknown> {
  const viewId = p.viewId ?? `V${unique()}`;
  return {
    type: 'block_suggestion',
    ...common(p.userId),
    container: { type: 'view', view_id: viewId },
    action_id: p.actionId,
    block_id: p.blockId,
    value: p.value,
    view: modalView(viewId, '', '', {}),
  };
}

/** A person's message in their DM with the app (the `message.im` event). */
export function messageImEvent(p: { userId: string; channel: string; text: string; ts?: string }) {
  const ts = p.ts ?? someTs();
  return {
    client_msg_id: randomBytes(16).toString('hex'),
    type: 'message',
    text: p.text,
    user: p.userId,
    ts,
    team: TEST_TEAM.id,
    channel: p.channel,
    event_ts: ts,
    channel_type: 'im',
  };
}

/** A person opened the app's App Home (`tab` home by default). */
export function appHomeOpenedEvent(
  userId: string,
  opts: { tab?: 'home' | 'messages'; channel?: string } = {},
) {
  return {
    type: 'app_home_opened',
    user: userId,
    channel: opts.channel ?? `D${userId.slice(1)}`,
    tab: opts.tab ?? 'home',
    event_ts: someTs(),
  };
}
