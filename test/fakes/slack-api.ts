/**
 * A fake of the Slack Web API on a real HTTP server, for tests of code that uses `@slack/web-api` (or Bolt's
 * client) with `slackApiUrl` pointed here. It keeps the state Slack keeps (messages per conversation, views,
 * triggers, DMs) and answers the way Slack documents: `POST /api/<method>`, form or JSON bodies, token in
 * `Authorization: Bearer`, HTTP 200 with `{ ok: true, … }` or `{ ok: false, error }`. An app-level token
 * (`xapp-…`) only opens Socket Mode with `apps.connections.open` (see slack-socket.ts); the bot token does
 * everything else.
 *
 * With the `oauth` option it also plays Slack's OAuth v2 install flow (docs.slack.dev/authentication/
 * installing-with-oauth): the consent page at `/oauth/v2/authorize` on the same origin, single-use codes, the
 * `oauth.v2.access` exchange, and `auth.revoke`. Tokens it issues work for every method, like the configured one.
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

/** One call the fake received; `args` has JSON-encoded fields (blocks, view, …) parsed and no token or secret. */
export interface FakeSlackCall {
  method: string;
  args: Record<string, unknown>;
  /** The token the call carried (header or form), to tell which install's token an app used. */
  token?: string;
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

/** One install made through the OAuth flow (oauth.v2.access answered ok). */
export interface FakeSlackInstall {
  /** The code that was exchanged. */
  code: string;
  /** The bot token (`xoxb-…`) issued, new for each install. */
  token: string;
  /** A user token (`xoxp-…`), issued only when the authorize URL asked for `user_scope`. */
  userToken?: string;
  teamId: string;
  enterpriseId?: string;
  scopes: string[];
  userScopes: string[];
  redirectUri: string;
  /** Whether auth.revoke revoked the bot token. */
  revoked: boolean;
  at: number;
}

export interface FakeSlack {
  /** Base URL with a trailing slash, as WebClient's `slackApiUrl` expects. */
  readonly url: string;
  /** The consent page, `http://127.0.0.1:PORT/oauth/v2/authorize` (InstallProvider's `authorizationUrl`). */
  readonly authorizeUrl: string;
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
  /** Installs made through oauth.v2.access, oldest first. */
  readonly installs: readonly FakeSlackInstall[];
  /** Tokens auth.revoke revoked (the configured bot token too); calls with them answer `token_revoked`. */
  readonly revokedTokens: readonly string[];
  isRevoked(token: string): boolean;
  /**
   * Does what a browser does with the authorize URL an app redirected to: GETs the consent page, submits its
   * form with Allow or Cancel, and returns the `Location` the fake redirects to (`redirect_uri?code=…&state=…`
   * or `?error=access_denied&state=…`). Throws when the page is an error page or no redirect comes.
   */
  authorize(url: string, decision?: 'allow' | 'cancel'): Promise<string>;
  /**
   * Forgets traffic and API-made state (calls, messages, views, triggers, failures, OAuth codes, installs,
   * revocations); keeps users, channels, DMs.
   */
  reset(): void;
  close(): Promise<void>;
}

type Args = Record<string, unknown>;
type Answer = Record<string, unknown> & ({ ok: true } | { ok: false; error: string });
/** What a handler may need besides the arguments. */
interface CallContext {
  /** The token the call was authorised with (already checked, unless the method takes none). */
  token?: string;
  authorization?: string;
  /** The body was JSON (oauth.v2.access documents form bodies only). */
  json: boolean;
}
type Handler = (args: Args, ctx: CallContext) => Answer;

const JSON_FIELDS = ['blocks', 'attachments', 'view', 'metadata'];
/** Methods called with client credentials instead of a token. */
const TOKENLESS = new Set(['oauth.v2.access']);
const AUTHORIZE_PATH = '/oauth/v2/authorize';
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
  /** The app's OAuth settings; without them the consent page and oauth.v2.access refuse every client id. */
  oauth?: FakeSlackOAuthOptions;
}

export interface FakeSlackOAuthOptions {
  clientId: string;
  clientSecret: string;
  /** The workspace the installer is signed in to. @default { id: 'T0FAKE', name: 'Grantflow Test' } */
  team?: { id: string; name: string };
  /** The Enterprise Grid org of that workspace. @default none (oauth.v2.access answers `enterprise: null`) */
  enterprise?: { id: string; name: string };
  /** @default 'A0GRANTFLOW' */
  appId?: string;
  /** The app name the consent page shows. @default 'Grantflow' */
  appName?: string;
  /** The bot user of the app in that workspace. @default 'UBOT' */
  botUserId?: string;
  /** The bot id auth.test answers for installed bot tokens (InstallProvider stores it). @default 'BBOT' */
  botId?: string;
  /** The user who clicks Allow (`authed_user.id`). @default 'U0INSTALLER' */
  installer?: string;
  /** How long a code can be exchanged. @default 600000, Slack's 10 minutes */
  codeTtlMs?: number;
}

/** Starts a fake Slack Web API on 127.0.0.1 with a free port. */
export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const fake = new FakeSlackServer(
    { bot: opts.token ?? 'xoxb-test-token', app: opts.appToken ?? 'xapp-test-token' },
    opts.triggerTtlMs ?? 3000,
    opts.users ?? [],
    opts.socketPingMs ?? 5000,
    new FakeOAuth(opts.oauth),
  );
  await fake.listen();
  return fake;
}

class FakeSlackServer implements FakeSlack {
  url = '';
  authorizeUrl = '';
  readonly calls: FakeSlackCall[] = [];
  readonly ephemerals: FakeSlackEphemeral[] = [];
  readonly views: FakeSlackView[] = [];
  private readonly posted: FakeSlackMessage[] = [];
  private readonly users: Map<string, FakeSlackUser>;
  private readonly channels = new Map<string, { member: boolean }>();
  private readonly dms = new Map<string, string>(); // user id -> D id
  private readonly triggers = new Map<string, { issuedAt: number; used: boolean }>();
  private readonly failures = new Map<string, string[]>();
  private readonly revoked = new Set<string>();
  private readonly server = createServer((req, res) => this.serve(req, res));
  readonly socket: SocketModeServer;
  private readonly handlers: Record<string, Handler> = {
    'apps.connections.open': () => ({ ok: true, url: this.socket.issueUrl() }),
    'auth.test': (_args, ctx) => this.authTest(ctx.token),
    'auth.revoke': (args, ctx) => this.authRevoke(args, ctx.token!),
    'oauth.v2.access': (args, ctx) =>
      // Documented as form-only: a JSON body carries no arguments Slack would read.
      this.oauth.access(ctx.json ? {} : args, ctx.authorization),
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
    private readonly oauth: FakeOAuth,
  ) {
    this.users = new Map(users.map((u) => [u.id, u]));
    this.socket = new SocketModeServer(this.server, 'A0GRANTFLOW', socketPingMs);
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    this.url = `${origin}/api/`;
    this.authorizeUrl = `${origin}${AUTHORIZE_PATH}`;
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
  get installs(): readonly FakeSlackInstall[] {
    return this.oauth.installs;
  }
  get revokedTokens(): readonly string[] {
    return [...this.revoked];
  }
  isRevoked(token: string): boolean {
    return this.revoked.has(token);
  }
  async authorize(url: string, decision: 'allow' | 'cancel' = 'allow'): Promise<string> {
    if (!url.startsWith(`${this.authorizeUrl}?`)) throw new Error(`url ${url} is not ${this.authorizeUrl}?…`);
    const page = await fetch(url, { redirect: 'manual' });
    const html = await page.text();
    if (page.status !== 200) throw new Error(`GET ${url} answered ${page.status}: ${html}`);
    const action = /<form method="post" action="([^"]+)">/.exec(html)?.[1];
    if (!action) throw new Error(`the consent page at ${url} has no form`);
    const fields = new URLSearchParams();
    for (const [, name, value] of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
      fields.append(unescapeHtml(name!), unescapeHtml(value!));
    fields.append('decision', decision);
    const answer = await fetch(new URL(unescapeHtml(action), url), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: fields.toString(),
    });
    const location = answer.headers.get('location');
    if (answer.status !== 302 || !location)
      throw new Error(`submitting ${decision} answered ${answer.status}: ${await answer.text()}`);
    return location;
  }
  reset(): void {
    for (const list of [this.calls, this.posted, this.ephemerals, this.views] as unknown[][]) list.length = 0;
    this.triggers.clear();
    this.failures.clear();
    this.revoked.clear();
    this.oauth.reset();
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
      const url = new URL(req.url ?? '/', 'http://x');
      const raw = Buffer.concat(chunks).toString('utf8');
      if (url.pathname === AUTHORIZE_PATH)
        return sendPage(res, this.oauth.page(req.method, url.searchParams, raw));
      const method = /^\/api\/([A-Za-z0-9_.]+)$/.exec(url.pathname)?.[1];
      const handler = method && req.method === 'POST' ? this.handlers[method] : undefined;
      const body = handler ? this.answer(method!, handler, req.headers, raw) : fail('unknown_method');
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
    const recorded = { ...args };
    delete recorded.client_secret; // oauth.v2.access: a secret stays out of the record, like a token
    this.calls.push({ method, args: recorded, token: given, at: Date.now() });
    const refused = TOKENLESS.has(method) ? undefined : this.refuseToken(method, given, header !== undefined);
    if (refused) return refused;
    const queued = this.failures.get(method)?.shift();
    const json = (headers['content-type'] ?? '').startsWith('application/json');
    return queued
      ? fail(queued)
      : handler(args, { token: given, authorization: headers.authorization, json });
  }

  /**
   * The app-level token only opens Socket Mode, and only from the Authorization header (the method's docs:
   * a POST parameter is an error); bot tokens (the configured one and installed ones) and installed user
   * tokens do everything else, until auth.revoke revokes them.
   */
  private refuseToken(method: string, token: string | undefined, inHeader: boolean): Answer | undefined {
    const socketMode = method === 'apps.connections.open';
    if (socketMode && !inHeader) return fail('missing_args');
    if (!token) return fail('not_authed');
    if (this.revoked.has(token)) return fail('token_revoked');
    const kind = this.tokenKind(token);
    if (!kind) return fail('invalid_auth');
    if (socketMode !== (kind === 'app')) return fail('not_allowed_token_type');
    return undefined;
  }
  private tokenKind(token: string): 'app' | 'bot' | 'user' | undefined {
    if (token === this.tokens.app) return 'app';
    if (token === this.tokens.bot) return 'bot';
    return this.oauth.find(token)?.kind;
  }

  /** auth.test: who a token is; an installed token answers its install's workspace, bot or installer. */
  private authTest(token: string | undefined): Answer {
    const installed = token === undefined ? undefined : this.oauth.find(token);
    if (installed) return this.oauth.authTest(installed);
    return { ok: true, url: TEAM.url, team: TEAM.name, user: 'grantflow', ...AUTH };
  }
  /** auth.revoke: `test` only says the token could be revoked (the method's documented testing mode). */
  private authRevoke(args: Args, token: string): Answer {
    if (args.test === true || args.test === 1 || args.test === '1' || args.test === 'true')
      return { ok: true, revoked: false };
    this.revoked.add(token);
    const installed = this.oauth.find(token);
    if (installed?.kind === 'bot') installed.install.revoked = true;
    return { ok: true, revoked: true };
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

/** The app's OAuth settings with the defaults filled in. */
interface OAuthApp extends Required<Omit<FakeSlackOAuthOptions, 'enterprise'>> {
  enterprise?: { id: string; name: string };
}
/** A code the consent page handed out: bound to the client, redirect_uri and scopes, exchangeable once. */
interface PendingCode {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  userScopes: string[];
  issuedAt: number;
  used: boolean;
}
/** An answer of the consent page: HTML, or a redirect. */
interface Page {
  status: number;
  html?: string;
  location?: string;
}

/** The OAuth side of the fake: the consent page, its codes, and the installs oauth.v2.access makes. */
class FakeOAuth {
  readonly installs: FakeSlackInstall[] = [];
  private readonly codes = new Map<string, PendingCode>();
  private readonly app?: OAuthApp;

  constructor(opts: FakeSlackOAuthOptions | undefined) {
    if (!opts) return;
    this.app = {
      ...opts,
      team: opts.team ?? { id: TEAM.id, name: TEAM.name },
      appId: opts.appId ?? 'A0GRANTFLOW',
      appName: opts.appName ?? 'Grantflow',
      botUserId: opts.botUserId ?? AUTH.user_id,
      botId: opts.botId ?? AUTH.bot_id,
      installer: opts.installer ?? 'U0INSTALLER',
      codeTtlMs: opts.codeTtlMs ?? 10 * 60_000,
    };
  }

  /** GET shows the consent page; POST is its form: Allow redirects with a new code, Cancel with access_denied. */
  page(method: string | undefined, query: URLSearchParams, body: string): Page {
    if (method !== 'GET' && method !== 'POST') return errorPage(405, 'method_not_allowed');
    const fields = method === 'POST' ? new URLSearchParams(body) : query;
    const problem = this.refuseRequest(fields);
    if (problem) return errorPage(400, problem);
    const app = this.app!;
    if (method === 'GET') return { status: 200, html: consentPage(app, fields) };
    const redirectUri = fields.get('redirect_uri')!;
    const state = fields.get('state') ?? undefined;
    const decision = fields.get('decision');
    if (decision === 'cancel') return redirect(redirectUri, { error: 'access_denied', state });
    if (decision !== 'allow') return errorPage(400, 'invalid_decision');
    const code = `${digits(10)}.${digits(13)}.${randomBytes(32).toString('hex')}`;
    this.codes.set(code, {
      clientId: app.clientId,
      redirectUri,
      scopes: scopeList(fields.get('scope')),
      userScopes: scopeList(fields.get('user_scope')),
      issuedAt: Date.now(),
      used: false,
    });
    return redirect(redirectUri, { code, state });
  }

  /**
   * Checked on the page and again on its form (a form can be forged). Slack uses the app's configured redirect
   * URL when `redirect_uri` is absent; the fake has no app configuration, so it requires one. Any `team` must be
   * the one workspace the fake installer is signed in to.
   */
  private refuseRequest(fields: URLSearchParams): string | undefined {
    if (!this.app || fields.get('client_id') !== this.app.clientId) return 'invalid_client_id';
    if (!isHttpUrl(fields.get('redirect_uri'))) return 'bad_redirect_uri';
    if (scopeList(fields.get('scope')).length === 0) return 'no_scopes'; // user-token-only installs: not modelled
    const team = fields.get('team');
    if (team && team !== this.app.team.id) return 'team_mismatch';
    return undefined;
  }

  /** oauth.v2.access: client credentials as form fields or HTTP Basic (both documented), then the code. */
  access(args: Args, authorization: string | undefined): Answer {
    const basic = basicCredentials(authorization);
    const clientId = basic?.id ?? str(args.client_id);
    const app = this.app;
    if (!app || clientId !== app.clientId) return fail('invalid_client_id');
    if ((basic?.secret ?? str(args.client_secret)) !== app.clientSecret) return fail('bad_client_secret');
    // Refreshing rotated tokens (grant_type=refresh_token) is not modelled.
    if (args.grant_type !== undefined && args.grant_type !== 'authorization_code')
      return fail('invalid_grant_type');
    const given = str(args.code);
    const code = given === undefined ? undefined : this.codes.get(given);
    // Unknown, already exchanged, expired or another client's: all `invalid_code`.
    if (!code || code.used || Date.now() - code.issuedAt > app.codeTtlMs || code.clientId !== clientId)
      return fail('invalid_code');
    // redirect_uri is optional, but required and equal when the authorize URL had one (it always does here).
    if (args.redirect_uri !== code.redirectUri) return fail('bad_redirect_uri');
    code.used = true;
    const install: FakeSlackInstall = {
      code: given!,
      token: newToken('xoxb'),
      ...(code.userScopes.length > 0 ? { userToken: newToken('xoxp') } : {}),
      teamId: app.team.id,
      ...(app.enterprise ? { enterpriseId: app.enterprise.id } : {}),
      scopes: code.scopes,
      userScopes: code.userScopes,
      redirectUri: code.redirectUri,
      revoked: false,
      at: Date.now(),
    };
    this.installs.push(install);
    return accessAnswer(app, install);
  }

  /** The install a token was issued by, and whether it is its bot or its user token. */
  find(token: string): { install: FakeSlackInstall; kind: 'bot' | 'user' } | undefined {
    for (const install of this.installs) {
      if (install.token === token) return { install, kind: 'bot' };
      if (install.userToken === token) return { install, kind: 'user' };
    }
    return undefined;
  }

  /** auth.test for an installed token; InstallProvider reads `bot_id` from it right after oauth.v2.access. */
  authTest({ kind }: { install: FakeSlackInstall; kind: 'bot' | 'user' }): Answer {
    const app = this.app!;
    const slug = app.team.name.toLowerCase().replace(/[^a-z0-9]+/g, '-');
    return {
      ok: true,
      url: `https://${slug}.slack.com/`,
      team: app.team.name,
      user: kind === 'bot' ? 'grantflow' : 'installer',
      team_id: app.team.id,
      user_id: kind === 'bot' ? app.botUserId : app.installer,
      ...(kind === 'bot' ? { bot_id: app.botId } : {}),
      ...(app.enterprise ? { enterprise_id: app.enterprise.id } : {}),
      is_enterprise_install: false,
    };
  }

  reset(): void {
    this.installs.length = 0;
    this.codes.clear();
  }
}

/** oauth.v2.access's documented success shape: the bot token first, the installing user under `authed_user`. */
function accessAnswer(app: OAuthApp, install: FakeSlackInstall): Answer {
  const authedUser = install.userToken
    ? {
        id: app.installer,
        scope: install.userScopes.join(','),
        access_token: install.userToken,
        token_type: 'user',
      }
    : { id: app.installer };
  return {
    ok: true,
    access_token: install.token,
    token_type: 'bot',
    scope: install.scopes.join(','),
    bot_user_id: app.botUserId,
    app_id: app.appId,
    team: { id: app.team.id, name: app.team.name },
    enterprise: app.enterprise ? { id: app.enterprise.id, name: app.enterprise.name } : null,
    is_enterprise_install: false,
    authed_user: authedUser,
  };
}

const digits = (n: number): string => Array.from(randomBytes(n), (b) => String(b % 10)).join('');
/** A token in Slack's shape, e.g. `xoxb-17653672481-1987469832312-<24 characters>`. */
const newToken = (prefix: 'xoxb' | 'xoxp'): string =>
  `${prefix}-${digits(11)}-${digits(13)}-${randomBytes(12).toString('hex')}`;
/** Slack's scope lists are comma-separated; spaces are tolerated. */
const scopeList = (v: string | null): string[] => (v ?? '').split(/[\s,]+/).filter(Boolean);
function isHttpUrl(v: string | null): boolean {
  if (!v) return false;
  try {
    return ['http:', 'https:'].includes(new URL(v).protocol);
  } catch {
    return false;
  }
}
/** `Authorization: Basic base64(client_id:client_secret)`, as RFC 6749 §2.3.1 and the method's docs describe. */
function basicCredentials(authorization: string | undefined): { id: string; secret: string } | undefined {
  const encoded = /^Basic\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0
    ? { id: decoded, secret: '' }
    : { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
/** Back to the app, keeping its own query; a missing `state` stays missing. */
function redirect(uri: string, params: Record<string, string | undefined>): Page {
  const target = new URL(uri);
  for (const [name, value] of Object.entries(params))
    if (value !== undefined) target.searchParams.set(name, value);
  return { status: 302, location: target.toString() };
}
function sendPage(res: ServerResponse, page: Page): void {
  res.writeHead(
    page.status,
    page.location ? { location: page.location } : { 'content-type': 'text/html; charset=utf-8' },
  );
  res.end(page.html ?? '');
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
const unescapeHtml = (s: string): string =>
  s.replace(/&(amp|lt|gt|quot|#39);/g, (e) => Object.entries(HTML_ESCAPES).find(([, v]) => v === e)![0]);
const htmlDocument = (title: string, body: string[]): string =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>\n` +
  `<body><main>\n${body.join('\n')}\n</main></body></html>\n`;

/** The consent page: who asks for what, and a form that carries the request on with Allow or Cancel. */
function consentPage(app: OAuthApp, fields: URLSearchParams): string {
  const hidden = ['client_id', 'scope', 'user_scope', 'redirect_uri', 'state', 'team']
    .filter((name) => fields.has(name))
    .map((name) => `<input type="hidden" name="${name}" value="${escapeHtml(fields.get(name)!)}">`);
  const list = (scopes: string[]) =>
    `<ul>${scopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('')}</ul>`;
  const userScopes = scopeList(fields.get('user_scope'));
  const title = `${app.appName} is requesting permission to access the ${app.team.name} Slack workspace`;
  return htmlDocument(title, [
    `<h1>${escapeHtml(title)}</h1>`,
    `<h2>What will ${escapeHtml(app.appName)} be able to do?</h2>`,
    list(scopeList(fields.get('scope'))),
    ...(userScopes.length > 0
      ? ['<h2>What will it be able to do on your behalf?</h2>', list(userScopes)]
      : []),
    `<form method="post" action="${AUTHORIZE_PATH}">`,
    ...hidden,
    '<button type="submit" name="decision" value="cancel">Cancel</button>',
    '<button type="submit" name="decision" value="allow">Allow</button>',
    '</form>',
  ]);
}
function errorPage(status: number, error: string): Page {
  const body = [
    '<h1>This install link does not work</h1>',
    `<p>Error: <code>${escapeHtml(error)}</code></p>`,
  ];
  return { status, html: htmlDocument(`Slack OAuth error: ${error}`, body) };
}
