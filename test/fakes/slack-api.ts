/**
 * A fake of the Slack Web API on a real HTTP server, for tests of code that uses `@slack/web-api` (or Bolt's
 * client) with `slackApiUrl` pointed here. It keeps the state Slack keeps (messages per conversation, views,
 * triggers, DMs) and answers the way Slack documents: `POST /api/<method>`, form or JSON bodies, token in
 * `Authorization: Bearer`, HTTP 200 with `{ ok: true, … }` or `{ ok: false, error }`. An app-level token
 * (`xapp-…`) only opens Socket Mode with `apps.connections.open` (see slack-socket.ts); the bot token does
 * everything else.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SocketModeServer, type FakeSlackSocket } from './slack-socket';

export interface FakeSlackUser {
  id: string;
  name?: string;
  realName?: string;
  email?: string;
}

/** One call the fake received; `args` has JSON-encoded fields (blocks, view, …) parsed and no token. */
export interface FakeSlackCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
}

/** The current state of a posted message; `history` holds its earlier versions, oldest first. */
export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown;
  threadTs?: string;
  history: { text?: string; blocks?: unknown; at: number }[];
}

export interface FakeSlackEphemeral {
  channel: string;
  user: string;
  messageTs: string;
  text?: string;
  blocks?: unknown;
}

/** A modal (opened or pushed) or a Home tab (published); `history` holds the earlier versions. */
export interface FakeSlackView {
  id: string;
  method: 'views.open' | 'views.push' | 'views.publish';
  userId?: string;
  hash: string;
  view: Record<string, unknown>;
  history: Record<string, unknown>[];
}

export interface FakeSlack {
  /** Base URL with a trailing slash, as WebClient's `slackApiUrl` expects. */
  readonly url: string;
  readonly calls: FakeSlackCall[];
  readonly ephemerals: FakeSlackEphemeral[];
  readonly views: FakeSlackView[];
  /** Socket Mode: the envelopes sent to the app connected through `apps.connections.open`. */
  readonly socket: FakeSlackSocket;
  /** Messages in post order, optionally of one conversation (C…/G…/D…). */
  messages(conversation?: string): FakeSlackMessage[];
  /** A trigger id as Slack puts in commands and interactions; usable once, for `triggerTtlMs`. */
  issueTrigger(): string;
  addChannel(id: string, member?: boolean): void;
  /** Sets whether the bot is in a channel (adds the channel if unknown). */
  setMember(channel: string, member: boolean): void;
  addUser(user: FakeSlackUser): void;
  /** The DM conversation id of a user (the one conversations.open answers). */
  dmFor(userId: string): string;
  /** The next call of `method` answers `{ ok: false, error }`. */
  failNext(method: string, error: string): void;
  /** Forgets traffic and API-made state (calls, messages, views, triggers, failures); keeps users, channels, DMs. */
  reset(): void;
  close(): Promise<void>;
}

type Args = Record<string, unknown>;
type Answer = Record<string, unknown> & ({ ok: true } | { ok: false; error: string });
type Handler = (args: Args) => Answer;

const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata'];
const TEAM = { id: 'T0FAKE', name: 'Grantflow Test', url: 'https://grantflow-test.slack.com/' };
/** What auth.test says about the bot; Bolt reads the bot's ids from it. */
const AUTH = { team_id: 'T0FAKE', user_id: 'UBOT', bot_id: 'BBOT' };
const fail = (error: string): Answer => ({ ok: false, error });
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

let sequence = 0;
/** A message ts unique in this process, in Slack's `seconds.micro` shape. */
function nextTs(): string {
  sequence += 1;
  return `${Math.floor(Date.now() / 1000)}.${String(sequence % 1_000_000).padStart(6, '0')}`;
}
function nextId(prefix: string): string {
  sequence += 1;
  return `${prefix}0${sequence.toString(36).toUpperCase().padStart(8, '0')}`;
}

export interface FakeSlackOptions {
  /** The bot token. @default 'xoxb-test-token' */
  token?: string;
  /** The app-level token that opens Socket Mode. @default 'xapp-test-token' */
  appToken?: string;
  triggerTtlMs?: number;
  users?: FakeSlackUser[];
  /** How often the Socket Mode side pings each connection. @default 5000 */
  socketPingMs?: number;
}

/** Starts a fake Slack Web API on 127.0.0.1 with a free port. */
export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const fake = new FakeSlackServer(
    { bot: opts.token ?? 'xoxb-test-token', app: opts.appToken ?? 'xapp-test-token' },
    opts.triggerTtlMs ?? 3000,
    opts.users ?? [],
    opts.socketPingMs ?? 5000,
  );
  await fake.listen();
  return fake;
}

class FakeSlackServer implements FakeSlack {
  url = '';
  readonly calls: FakeSlackCall[] = [];
  readonly ephemerals: FakeSlackEphemeral[] = [];
  readonly views: FakeSlackView[] = [];
  private readonly posted: FakeSlackMessage[] = [];
  private readonly users: Map<string, FakeSlackUser>;
  private readonly channels = new Map<string, { member: boolean }>();
  private readonly dms = new Map<string, string>(); // user id -> D id
  private readonly triggers = new Map<string, { issuedAt: number; used: boolean }>();
  private readonly failures = new Map<string, string[]>();
  private readonly server = createServer((req, res) => this.serve(req, res));
  readonly socket: SocketModeServer;
  private readonly handlers: Record<string, Handler> = {
    'apps.connections.open': () => ({ ok: true, url: this.socket.issueUrl() }),
    'auth.test': () => ({ ok: true, url: TEAM.url, team: TEAM.name, user: 'grantflow', ...AUTH }),
    'views.open': (args) => this.openModal('views.open', args),
    'views.push': (args) => this.openModal('views.push', args),
    'views.update': (args) => this.viewsUpdate(args),
    'views.publish': (args) => this.viewsPublish(args),
    'chat.postMessage': (args) => this.postMessage(args),
    'chat.update': (args) => this.chatUpdate(args),
    'chat.postEphemeral': (args) => this.postEphemeral(args),
    'users.info': (args) => this.userAnswer(this.users.get(String(args.user)), 'user_not_found'),
    'users.lookupByEmail': (args) => {
      const email = String(args.email ?? '').toLowerCase();
      const found = [...this.users.values()].find((u) => email !== '' && u.email?.toLowerCase() === email);
      return this.userAnswer(found, 'users_not_found');
    },
    'conversations.open': (args) => this.conversationsOpen(args),
    'conversations.info': (args) => this.conversationsInfo(String(args.channel ?? '')),
  };

  constructor(
    private readonly tokens: { bot: string; app: string },
    private readonly triggerTtlMs: number,
    users: FakeSlackUser[],
    socketPingMs: number,
  ) {
    this.users = new Map(users.map((u) => [u.id, u]));
    this.socket = new SocketModeServer(this.server, 'A0GRANTFLOW', socketPingMs);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/api/`;
  }

  messages(conversation?: string): FakeSlackMessage[] {
    return this.posted.filter((m) => conversation === undefined || m.channel === conversation);
  }
  issueTrigger(): string {
    const id = `${nextId('').slice(1)}.${Date.now()}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { issuedAt: Date.now(), used: false });
    return id;
  }
  addChannel(id: string, member = true): void {
    this.channels.set(id, { member });
  }
  setMember(channel: string, member: boolean): void {
    this.channels.set(channel, { member });
  }
  addUser(user: FakeSlackUser): void {
    this.users.set(user.id, user);
  }
  dmFor(userId: string): string {
    let id = this.dms.get(userId);
    if (!id) this.dms.set(userId, (id = nextId('D')));
    return id;
  }
  failNext(method: string, error: string): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), error]);
  }
  reset(): void {
    for (const list of [this.calls, this.posted, this.ephemerals, this.views] as unknown[][]) list.length = 0;
    this.triggers.clear();
    this.failures.clear();
  }
  close(): Promise<void> {
    this.socket.close();
    this.server.closeAllConnections();
    return new Promise((resolve, reject) => this.server.close((err) => (err ? reject(err) : resolve())));
  }

  private serve(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = /^\/api\/([A-Za-z0-9_.]+)$/.exec(new URL(req.url ?? '/', 'http://x').pathname)?.[1];
      const handler = method && req.method === 'POST' ? this.handlers[method] : undefined;
      const body = handler
        ? this.answer(method!, handler, req.headers, Buffer.concat(chunks).toString('utf8'))
        : fail('unknown_method');
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    });
  }

  private answer(method: string, handler: Handler, headers: IncomingMessage['headers'], raw: string): Answer {
    const args = parseBody(headers['content-type'], raw);
    if (typeof args === 'string') return fail(args);
    const header = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
    const given = header ?? str(args.token);
    delete args.token;
    this.calls.push({ method, args, at: Date.now() });
    const refused = this.refuseToken(method, given, header !== undefined);
    if (refused) return refused;
    const queued = this.failures.get(method)?.shift();
    return queued ? fail(queued) : handler(args);
  }

  /**
   * The app-level token only opens Socket Mode, and only from the Authorization header (the method's docs:
   * a POST parameter is an error); the bot token does everything else.
   */
  private refuseToken(method: string, token: string | undefined, inHeader: boolean): Answer | undefined {
    const socketMode = method === 'apps.connections.open';
    if (socketMode && !inHeader) return fail('missing_args');
    if (!token) return fail('not_authed');
    if (token !== this.tokens.bot && token !== this.tokens.app) return fail('invalid_auth');
    if (socketMode !== (token === this.tokens.app)) return fail('not_allowed_token_type');
    return undefined;
  }

  private isDm(id: string): boolean {
    return [...this.dms.values()].includes(id);
  }
  /** Where a message to `channel` goes: a user id means their DM, as chat.postMessage documents. */
  private postTarget(channel: string | undefined): Answer | string {
    if (!channel) return fail('channel_not_found');
    if (/^[UW]/.test(channel)) return this.dmFor(channel);
    if (channel.startsWith('D')) return this.isDm(channel) ? channel : fail('channel_not_found');
    const known = this.channels.get(channel);
    if (!known) return fail('channel_not_found');
    return known.member ? channel : fail('not_in_channel');
  }
  /** Exchanges a trigger: known, fresh and unused, as views.open and views.push require. */
  private exchangeTrigger(id: string | undefined): Answer | undefined {
    const trigger = id === undefined ? undefined : this.triggers.get(id);
    if (!trigger) return fail(id === undefined ? 'invalid_arguments' : 'invalid_trigger_id');
    if (Date.now() - trigger.issuedAt > this.triggerTtlMs) return fail('expired_trigger_id');
    if (trigger.used) return fail('exchanged_trigger_id');
    trigger.used = true;
    return undefined;
  }

  private openModal(method: 'views.open' | 'views.push', args: Args): Answer {
    const view = objectArg(args.view);
    if (!view) return fail('invalid_arguments');
    const refused = this.exchangeTrigger(str(args.trigger_id));
    if (refused) return refused;
    const created: FakeSlackView = { id: nextId('V'), method, hash: nextTs(), view, history: [] };
    this.views.push(created);
    return viewAnswer(created);
  }
  private viewsUpdate(args: Args): Answer {
    const view = objectArg(args.view);
    if (!view) return fail('invalid_arguments');
    const target = this.views.find((v) =>
      args.view_id ? v.id === args.view_id : args.external_id && v.view.external_id === args.external_id,
    );
    if (!target) return fail('not_found');
    return replaceView(target, view, args.hash);
  }
  private viewsPublish(args: Args): Answer {
    const userId = str(args.user_id);
    const view = objectArg(args.view);
    if (!userId || !view) return fail('invalid_arguments');
    let home = this.views.find((v) => v.method === 'views.publish' && v.userId === userId);
    if (home) return replaceView(home, view, args.hash);
    home = { id: nextId('V'), method: 'views.publish', userId, hash: nextTs(), view, history: [] };
    this.views.push(home);
    return viewAnswer(home);
  }

  private postMessage(args: Args): Answer {
    const channel = this.postTarget(str(args.channel));
    if (typeof channel !== 'string') return channel;
    if (!hasContent(args)) return fail('no_text');
    const text = str(args.text);
    const message: FakeSlackMessage = { channel, ts: nextTs(), text, blocks: args.blocks, history: [] };
    if (str(args.thread_ts)) message.threadTs = str(args.thread_ts);
    this.posted.push(message);
    return { ok: true, channel, ts: message.ts, message: messageShape(message) };
  }
  private chatUpdate(args: Args): Answer {
    const channel = str(args.channel);
    // chat.update takes a conversation id only: a user id (or a name) does not resolve to the DM.
    if (!channel || !/^[CGD]/.test(channel) || (!this.channels.has(channel) && !this.isDm(channel)))
      return fail('channel_not_found');
    const message = this.posted.find((m) => m.channel === channel && m.ts === args.ts);
    if (!message) return fail('message_not_found');
    message.history.push({ text: message.text, blocks: message.blocks, at: Date.now() });
    if (args.text !== undefined) message.text = str(args.text);
    // As documented: leaving `blocks` out keeps the previous blocks.
    if (args.blocks !== undefined) message.blocks = args.blocks;
    return { ok: true, channel, ts: message.ts, text: message.text ?? '', message: messageShape(message) };
  }
  private postEphemeral(args: Args): Answer {
    const channel = this.postTarget(str(args.channel));
    if (typeof channel !== 'string') return channel;
    const user = str(args.user);
    if (!user) return fail('user_not_in_channel');
    if (!hasContent(args)) return fail('no_text');
    const messageTs = nextTs();
    this.ephemerals.push({ channel, user, messageTs, text: str(args.text), blocks: args.blocks });
    return { ok: true, message_ts: messageTs };
  }

  private userAnswer(u: FakeSlackUser | undefined, notFound: string): Answer {
    if (!u) return fail(notFound);
    const realName = u.realName ?? u.name ?? u.id;
    const name = u.name ?? u.id.toLowerCase();
    const profile = { email: u.email, real_name: realName, display_name: u.name ?? '' };
    return {
      ok: true,
      user: { id: u.id, team_id: TEAM.id, name, real_name: realName, deleted: false, profile },
    };
  }
  private conversationsOpen(args: Args): Answer {
    const channel = str(args.channel);
    if (channel)
      return this.isDm(channel) ? { ok: true, channel: { id: channel } } : fail('channel_not_found');
    const ids = String(args.users ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (ids.length === 0) return fail('users_list_not_supplied');
    if (ids.length > 1) return fail('method_not_supported_for_channel_type'); // group DMs: not modelled
    return { ok: true, channel: { id: this.dmFor(ids[0]!) } };
  }
  private conversationsInfo(id: string): Answer {
    const known = this.channels.get(id);
    if (known) return { ok: true, channel: { id, is_channel: id.startsWith('C'), is_member: known.member } };
    const user = [...this.dms.entries()].find(([, dm]) => dm === id)?.[0];
    return user
      ? { ok: true, channel: { id, is_im: true, user, is_member: true } }
      : fail('channel_not_found');
  }
}

const objectArg = (v: unknown): Record<string, unknown> | undefined =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const hasContent = (args: Args): boolean =>
  str(args.text) !== undefined || args.blocks !== undefined || args.attachments !== undefined;
const viewAnswer = (v: FakeSlackView): Answer => ({
  ok: true,
  view: { id: v.id, team_id: TEAM.id, ...v.view, hash: v.hash, app_id: 'A0GRANTFLOW', bot_id: AUTH.bot_id },
});
/** views.update / views.publish: a `hash` that is not the current one means someone else changed the view. */
function replaceView(target: FakeSlackView, view: Record<string, unknown>, hash: unknown): Answer {
  if (str(hash) && hash !== target.hash) return fail('hash_conflict');
  target.history.push(target.view);
  Object.assign(target, { view, hash: nextTs() });
  return viewAnswer(target);
}
const messageShape = (m: FakeSlackMessage) => ({
  type: 'message',
  user: AUTH.user_id,
  bot_id: AUTH.bot_id,
  text: m.text ?? '',
  ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
  ts: m.ts,
  ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
});

/** Parses a form or JSON body into arguments, decoding the fields Slack takes as JSON strings. */
function parseBody(contentType: string | undefined, raw: string): Args | string {
  let args: Args;
  if ((contentType ?? '').startsWith('application/json')) {
    try {
      const value = objectArg(raw === '' ? {} : JSON.parse(raw));
      if (!value) return 'invalid_json';
      args = value;
    } catch {
      return 'invalid_json';
    }
  } else {
    args = Object.fromEntries(new URLSearchParams(raw));
  }
  for (const field of JSON_FIELDS) {
    if (typeof args[field] !== 'string') continue;
    try {
      args[field] = JSON.parse(args[field]);
    } catch {
      return field === 'blocks' ? 'invalid_blocks_format' : 'invalid_arguments';
    }
  }
  return args;
}
