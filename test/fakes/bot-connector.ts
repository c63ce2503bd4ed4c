/**
 * A fake Bot Framework Connector service (REST v3, "Bot Connector API reference") on a real HTTP server, for tests
 * of code that sends through botbuilder's `ConnectorClient` with an activity's `serviceUrl` pointed here. It keeps
 * what the service keeps (activities per conversation with their edits, created conversations, Teams members) and
 * answers like the service: JSON bodies, ids in the path URL-encoded (`a:…`, `19:…@thread.tacv2`), errors as
 * `{ error: { code, message } }`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A Teams user as `GET /v3/conversations/{id}/members/{memberId}` answers it (a `TeamsChannelAccount`). */
export interface FakeTeamsMember {
  /** The Teams user id, `29:…`. */
  id: string;
  name: string;
  aadObjectId: string;
  email: string;
  /** @default email */
  userPrincipalName?: string;
  tenantId?: string;
  givenName?: string;
  surname?: string;
}

/** One request the fake received; ids are URL-decoded. */
export interface FakeConnectorCall {
  method: string;
  /** The decoded path, e.g. `/v3/conversations/a:1x/activities/17`. */
  path: string;
  conversationId?: string;
  activityId?: string;
  memberId?: string;
  /** The parsed JSON body, if any. */
  body: unknown;
  /** The `Authorization` header as received. */
  authorization?: string;
  /** The status the fake answered. */
  status: number;
  at: number;
}

/** The current state of an activity posted to the fake; `history` holds its earlier versions, oldest first. */
export interface FakeConnectorActivity {
  conversationId: string;
  id: string;
  /** The activity as last sent or updated. */
  activity: Record<string, unknown>;
  /** The activity this one replies to (reply endpoint), if any. */
  replyToId?: string;
  deleted: boolean;
  history: { activity: Record<string, unknown>; at: number }[];
}

/** A conversation created with `POST /v3/conversations`. */
export interface FakeConnectorConversation {
  id: string;
  /** The `ConversationParameters` body. */
  parameters: Record<string, unknown>;
}

export interface FakeConnector {
  /** The service URL to put in activities, with a trailing slash: `http://127.0.0.1:PORT/`. */
  readonly serviceUrl: string;
  readonly calls: FakeConnectorCall[];
  readonly conversations: FakeConnectorConversation[];
  /** Activities in post order (deleted ones included), optionally of one conversation. */
  activities(conversationId?: string): FakeConnectorActivity[];
  /** Makes a member known in every conversation (Teams resolves members per tenant). Looked up by id or aadObjectId. */
  addMember(m: FakeTeamsMember): void;
  /**
   * The next `times` requests whose decoded path starts with `pathPrefix` answer `status`. The prefix may start with
   * a method: `'PUT /v3/conversations/a:1'`. Note that botbuilder's HTTP pipeline retries 408, 429 and most 5xx.
   */
  failNext(pathPrefix: string, status: number, times?: number): void;
  /** Forgets calls, activities, conversations and pending failures; keeps members. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * The personal (1:1) conversation id of a user and a bot. Teams gives each user-bot pair one stable `a:…` id; this
 * derives one the same way every time, so a created conversation matches the one the user's messages come from.
 */
export function personalConversationId(userId: string, botId: string): string {
  return `a:1${createHash('sha256').update(`${userId}|${botId}`).digest('base64url').slice(0, 40)}`;
}

const ERROR_CODES: Record<number, string> = {
  400: 'BadArgument',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  412: 'PreconditionFailed',
  429: 'Throttled',
};

interface Answer {
  status: number;
  body?: unknown;
}
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const error = (status: number, message: string): Answer => ({
  status,
  body: { error: { code: ERROR_CODES[status] ?? 'ServiceError', message } },
});

/** Starts a fake Bot Connector on 127.0.0.1 with a free port. */
export async function startFakeConnector(opts: { members?: FakeTeamsMember[] } = {}): Promise<FakeConnector> {
  const fake = new FakeConnectorServer(opts.members ?? []);
  await fake.listen();
  return fake;
}

class FakeConnectorServer implements FakeConnector {
  serviceUrl = '';
  readonly calls: FakeConnectorCall[] = [];
  readonly conversations: FakeConnectorConversation[] = [];
  private readonly posted: FakeConnectorActivity[] = [];
  private readonly members: FakeTeamsMember[];
  private failures: { method?: string; prefix: string; status: number }[] = [];
  private sequence = 0;
  private readonly server = createServer((req, res) => void this.serve(req, res));

  constructor(members: FakeTeamsMember[]) {
    this.members = [...members];
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.serviceUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
  }

  activities(conversationId?: string): FakeConnectorActivity[] {
    return this.posted.filter((a) => conversationId === undefined || a.conversationId === conversationId);
  }
  addMember(m: FakeTeamsMember): void {
    this.members.push(m);
  }
  failNext(pathPrefix: string, status: number, times = 1): void {
    const match = /^([A-Z]+) (\/.*)$/.exec(pathPrefix);
    const rule = match ? { method: match[1], prefix: match[2], status } : { prefix: pathPrefix, status };
    for (let i = 0; i < times; i += 1) this.failures.push(rule);
  }
  reset(): void {
    for (const list of [this.calls, this.conversations, this.posted] as unknown[][]) list.length = 0;
    this.failures = [];
  }
  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.closeAllConnections();
      this.server.close((err) => (err ? reject(err) : resolve()));
    });
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const raw = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = raw;
    }
    let segments: string[];
    try {
      segments = (req.url ?? '/').split('?')[0].split('/').map(decodeURIComponent);
    } catch {
      segments = (req.url ?? '/').split('?')[0].split('/');
    }
    // ['', 'v3', 'conversations', conversationId, 'activities' | 'members', id]
    const [, version, root, conversationId, kind, id, extra] = segments;
    const call: FakeConnectorCall = {
      method,
      path: segments.join('/'),
      ...(conversationId !== undefined ? { conversationId } : {}),
      ...(kind === 'activities' && id !== undefined ? { activityId: id } : {}),
      ...(kind === 'members' && id !== undefined ? { memberId: id } : {}),
      body,
      ...(req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {}),
      status: 0,
      at: Date.now(),
    };
    const failure = this.takeFailure(method, call.path);
    const known = version === 'v3' && root === 'conversations' && extra === undefined;
    let answer: Answer;
    if (failure) answer = error(failure, `failNext(${call.path})`);
    else if (!known) answer = error(404, `No route for ${method} ${call.path}`);
    else {
      const target =
        conversationId === undefined ? 'conversations' : `${kind ?? ''}${id !== undefined ? '/:id' : ''}`;
      answer = this.route(`${method} ${target}`, call, body);
    }
    call.status = answer.status;
    this.calls.push(call);
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private takeFailure(method: string, path: string): number | undefined {
    const i = this.failures.findIndex((f) => (!f.method || f.method === method) && path.startsWith(f.prefix));
    return i < 0 ? undefined : this.failures.splice(i, 1)[0].status;
  }

  /** `route` is `METHOD conversations` (`/v3/conversations` itself) or `METHOD kind[/:id]`, e.g. `PUT activities/:id`. */
  private route(route: string, call: FakeConnectorCall, body: unknown): Answer {
    const { conversationId: cid = '', activityId: aid = '', memberId: mid = '' } = call;
    const json = isObject(body) ? body : undefined;
    const needsBody = ['POST conversations', 'POST activities', 'POST activities/:id', 'PUT activities/:id'];
    if (needsBody.includes(route) && !json) return error(400, 'The request body must be a JSON object');
    switch (route) {
      case 'POST conversations':
        return this.createConversation(json!);
      case 'POST activities':
        return this.post(cid, json!);
      case 'POST activities/:id':
        return this.post(cid, json!, aid);
      case 'PUT activities/:id':
        return this.update(cid, aid, json!);
      case 'DELETE activities/:id':
        return this.remove(cid, aid);
      case 'GET members':
        return { status: 200, body: this.members.map((m) => this.memberBody(m)) };
      case 'GET members/:id':
        return this.member(mid);
      default:
        return error(404, `No route for ${call.method} ${call.path}`);
    }
  }

  private nextActivityId(): string {
    this.sequence += 1;
    return String(Date.now() * 1000 + (this.sequence % 1000));
  }

  private createConversation(parameters: Json): Answer {
    const channelData = isObject(parameters.channelData) ? parameters.channelData : {};
    const channelId = isObject(channelData.channel) ? channelData.channel.id : undefined;
    const bot = isObject(parameters.bot) ? String(parameters.bot.id ?? '') : '';
    const members = Array.isArray(parameters.members) ? parameters.members.filter(isObject) : [];
    let id: string;
    let activityId: string | undefined;
    if (typeof channelId === 'string' && isObject(parameters.activity)) {
      // Posting to a channel starts a new thread: the conversation is the channel plus the first message's id.
      activityId = this.nextActivityId();
      id = `${channelId};messageid=${activityId}`;
    } else if (!parameters.isGroup && members.length === 1) {
      id = personalConversationId(String(members[0].id ?? ''), bot);
    } else {
      id = `19:${randomUUID().replace(/-/g, '')}@thread.v2`;
    }
    this.conversations.push({ id, parameters });
    if (isObject(parameters.activity)) activityId = this.store(id, parameters.activity, activityId).id;
    return { status: 201, body: { id, ...(activityId ? { activityId } : {}), serviceUrl: this.serviceUrl } };
  }

  private store(conversationId: string, activity: Json, id = this.nextActivityId(), replyToId?: string) {
    const entry: FakeConnectorActivity = {
      conversationId,
      id,
      activity: { ...activity, id },
      ...(replyToId !== undefined ? { replyToId } : {}),
      deleted: false,
      history: [],
    };
    this.posted.push(entry);
    return entry;
  }

  private post(conversationId: string, activity: Json, replyToId?: string): Answer {
    return { status: 201, body: { id: this.store(conversationId, activity, undefined, replyToId).id } };
  }

  private find(conversationId: string, id: string): FakeConnectorActivity | undefined {
    return this.posted.find((a) => a.conversationId === conversationId && a.id === id && !a.deleted);
  }

  private update(conversationId: string, id: string, activity: Json): Answer {
    const entry = this.find(conversationId, id);
    if (!entry) return error(404, `Activity ${id} not found in conversation ${conversationId}`);
    entry.history.push({ activity: entry.activity, at: Date.now() });
    entry.activity = { ...activity, id };
    return { status: 200, body: { id } };
  }

  private remove(conversationId: string, id: string): Answer {
    const entry = this.find(conversationId, id);
    if (!entry) return error(404, `Activity ${id} not found in conversation ${conversationId}`);
    entry.deleted = true;
    return { status: 200 };
  }

  private member(memberId: string): Answer {
    const found = this.members.find((m) => m.id === memberId || m.aadObjectId === memberId);
    return found ? { status: 200, body: this.memberBody(found) } : error(404, `Member ${memberId} not found`);
  }

  private memberBody(m: FakeTeamsMember): Json {
    const [givenName, ...rest] = m.name.split(' ');
    return {
      id: m.id,
      name: m.name,
      aadObjectId: m.aadObjectId,
      email: m.email,
      userPrincipalName: m.userPrincipalName ?? m.email,
      tenantId: m.tenantId,
      givenName: m.givenName ?? givenName,
      surname: m.surname ?? (rest.join(' ') || undefined),
      userRole: 'user',
    };
  }
}
