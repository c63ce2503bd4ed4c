/**
 * Builders of the activities Microsoft Teams posts to a bot's messaging endpoint, shaped like real Teams traffic
 * (ids `29:…` for users, `28:<appId>` for the bot, `a:…` personal and `19:…@thread.tacv2` channel conversations,
 * tenant in `conversation.tenantId` and `channelData.tenant`), and a sender that posts them with a signed token.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { FakeBotAuth, BotTokenSigner } from '../fakes/bot-auth';
import { personalConversationId } from '../fakes/bot-connector';

/** A Teams user; structurally a `FakeTeamsMember`, so it can be given to `FakeConnector.addMember`. */
export interface TeamsUser {
  /** The Teams user id, `29:…`. */
  id: string;
  name: string;
  aadObjectId: string;
  email: string;
}

/** The tenant test activities come from unless told otherwise. */
export const TEST_TENANT_ID = '72f988bf-0000-4000-8000-00000000aaaa';
/** The bot's Microsoft app id in test activities unless told otherwise. */
export const TEST_APP_ID = 'test-app-id';

/** A conversation as Teams describes it; `team` and `channel` (channel conversations) go into `channelData`. */
export interface TeamsConversation {
  id: string;
  conversationType: 'personal' | 'channel' | 'groupChat';
  tenantId: string;
  isGroup?: boolean;
  team?: { id: string; name: string; aadGroupId?: string };
  channel?: { id: string; name: string };
}

/** An activity as it travels on the wire (JSON: `timestamp` is an ISO string). */
export interface TeamsActivity {
  type: string;
  id: string;
  timestamp: string;
  localTimestamp: string;
  channelId: 'msteams';
  serviceUrl: string;
  from: { id: string; name: string; aadObjectId: string };
  recipient: { id: string; name: string };
  conversation: { id: string; conversationType: string; tenantId: string; isGroup?: boolean };
  channelData: Record<string, unknown>;
  locale: string;
  [field: string]: unknown;
}

/** What every builder needs to know besides the user. */
export interface TeamsActivityBase {
  user: TeamsUser;
  /** The fake connector's `serviceUrl`; the bot answers there. */
  serviceUrl: string;
  /** @default TEST_APP_ID */
  appId?: string;
  /** @default the personal conversation of `user` and the bot */
  conversation?: TeamsConversation;
  /** @default 'en-US' */
  locale?: string;
}

const hex = (seed: string, length: number) =>
  createHash('sha256').update(seed).digest('hex').slice(0, length);

/** A version-4-shaped UUID that is always the same for the same seed. */
function uuidFrom(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A user with stable ids derived from `name`: `teamsUser('Alice Admin')` → `alice.admin@grantflow.test`. */
export function teamsUser(name: string, email?: string): TeamsUser {
  return {
    id: `29:1${hex(`user|${name}`, 40)}`,
    name,
    aadObjectId: uuidFrom(`aad|${name}`),
    email: email ?? `${name.toLowerCase().replace(/\s+/g, '.')}@grantflow.test`,
  };
}

/** The 1:1 conversation between `user` and the bot (the same id the fake connector creates for them). */
export function personalConversation(user: TeamsUser, appId = TEST_APP_ID, tenantId = TEST_TENANT_ID) {
  const conversation: TeamsConversation = {
    id: personalConversationId(user.id, `28:${appId}`),
    conversationType: 'personal',
    tenantId,
  };
  return conversation;
}

/** A channel of a team; the team's id is its General channel's id, as in Teams. */
export function channelConversation(o: { team?: string; channel?: string; tenantId?: string } = {}) {
  const teamName = o.team ?? 'Platform';
  const channelName = o.channel ?? 'General';
  const teamId = `19:${hex(`team|${teamName}`, 32)}@thread.tacv2`;
  const channelId =
    channelName === 'General' ? teamId : `19:${hex(`${teamName}|${channelName}`, 32)}@thread.tacv2`;
  const conversation: TeamsConversation = {
    id: channelId,
    conversationType: 'channel',
    tenantId: o.tenantId ?? TEST_TENANT_ID,
    isGroup: true,
    team: { id: teamId, name: teamName, aadGroupId: uuidFrom(`group|${teamName}`) },
    channel: { id: channelId, name: channelName },
  };
  return conversation;
}

function base(type: string, o: TeamsActivityBase, id: string = Date.now().toString()): TeamsActivity {
  const appId = o.appId ?? TEST_APP_ID;
  const c = o.conversation ?? personalConversation(o.user, appId);
  const now = new Date().toISOString();
  return {
    type,
    id,
    timestamp: now,
    localTimestamp: now,
    channelId: 'msteams',
    serviceUrl: o.serviceUrl,
    from: { id: o.user.id, name: o.user.name, aadObjectId: o.user.aadObjectId },
    recipient: { id: `28:${appId}`, name: 'Grantflow' },
    conversation: {
      id: c.id,
      conversationType: c.conversationType,
      tenantId: c.tenantId,
      ...(c.isGroup ? { isGroup: true } : {}),
    },
    channelData: {
      tenant: { id: c.tenantId },
      ...(c.team ? { team: c.team } : {}),
      ...(c.channel ? { channel: c.channel } : {}),
    },
    locale: o.locale ?? 'en-US',
  };
}

/** A message the user typed to the bot. */
export function messageActivity(o: TeamsActivityBase & { text: string }): TeamsActivity {
  return { ...base('message', o), text: o.text, textFormat: 'plain', attachments: [], entities: [] };
}

/** The invoke Teams sends when the user presses an `Action.Execute` button of an Adaptive Card. */
export function adaptiveCardInvoke(
  o: TeamsActivityBase & { verb: string; data: Record<string, unknown>; replyToId?: string },
): TeamsActivity {
  const activity = base('invoke', o, `f:${randomUUID()}`);
  return {
    ...activity,
    name: 'adaptiveCard/action',
    value: { action: { type: 'Action.Execute', verb: o.verb, data: o.data }, trigger: 'manual' },
    ...(o.replyToId !== undefined ? { replyToId: o.replyToId } : {}),
    channelData: { ...activity.channelData, source: { name: 'message' } },
  };
}

/** The bot was installed (`action: 'add'`) or uninstalled (`'remove'`) in a personal scope or a team. */
export function installationUpdate(o: TeamsActivityBase & { action?: 'add' | 'remove' }): TeamsActivity {
  return { ...base('installationUpdate', o, `f:${randomUUID()}`), action: o.action ?? 'add' };
}

/**
 * Members were added to a conversation; by default the bot itself (what Teams sends when the app is added). With
 * `team` (and `channel`), the event is in that team's channel, with Teams' `eventType: 'teamMemberAdded'`.
 */
export function conversationUpdateMembersAdded(
  o: Omit<TeamsActivityBase, 'conversation'> & {
    team?: string;
    channel?: string;
    membersAdded?: { id: string }[];
  },
): TeamsActivity {
  const appId = o.appId ?? TEST_APP_ID;
  const conversation = o.team ? channelConversation({ team: o.team, channel: o.channel }) : undefined;
  const activity = base(
    'conversationUpdate',
    { ...o, ...(conversation ? { conversation } : {}) },
    `f:${randomUUID()}`,
  );
  return {
    ...activity,
    membersAdded: o.membersAdded ?? [{ id: `28:${appId}` }],
    channelData: { ...activity.channelData, ...(conversation ? { eventType: 'teamMemberAdded' } : {}) },
  };
}

export interface TeamsSendOptions {
  /** A raw token to send instead of a minted one; `null` sends no Authorization header. */
  token?: string | null;
  /** @default 'trusted' */
  signWith?: BotTokenSigner;
  /** The token's `aud`. @default the sender's appId */
  audience?: string;
}

export interface TeamsSendResult {
  status: number;
  body: string;
  /** The body parsed, when it is JSON. */
  json?: unknown;
}

export interface TeamsSender {
  /** Posts `activity` to the bot as the Teams channel would, with a token whose `serviceurl` is the activity's. */
  send(activity: TeamsActivity | Record<string, unknown>, opts?: TeamsSendOptions): Promise<TeamsSendResult>;
}

/** A sender posting activities to the bot's messaging endpoint (`url`, e.g. `http://127.0.0.1:PORT/api/messages`). */
export function createTeamsSender(o: { url: string; auth: FakeBotAuth; appId: string }): TeamsSender {
  return {
    async send(activity, opts = {}) {
      const serviceUrl = typeof activity.serviceUrl === 'string' ? activity.serviceUrl : undefined;
      const token =
        opts.token !== undefined
          ? opts.token
          : o.auth.mintToken({ audience: opts.audience ?? o.appId, serviceUrl, signWith: opts.signWith });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token !== null) headers.authorization = `Bearer ${token}`;
      const res = await fetch(o.url, { method: 'POST', headers, body: JSON.stringify(activity) });
      const body = await res.text();
      let json: unknown;
      try {
        json = body === '' ? undefined : JSON.parse(body);
      } catch {
        json = undefined;
      }
      return { status: res.status, body, ...(json !== undefined ? { json } : {}) };
    },
  };
}
