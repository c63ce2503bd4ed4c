/**
 * Socket Mode for the fake Slack (test/fakes/slack-api.ts), as docs.slack.dev/apis/events-api/using-socket-mode
 * describes it: `apps.connections.open` hands out a single-use WebSocket URL; on connect Slack sends `hello`;
 * every payload comes in an envelope `{ envelope_id, type, payload, accepts_response_payload }` (plus
 * `retry_attempt`/`retry_reason` on redeliveries) that the app acknowledges with `{ envelope_id, payload? }`;
 * Slack may ask for a reconnect with `{ type: 'disconnect', reason }`. Heartbeats are WebSocket ping/pong frames.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';

export type EnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

/** What the app sent back for an envelope. */
export interface SocketAck {
  envelope_id: string;
  /** The response (modal errors, options, an ephemeral message…); Bolt sends `{}` for a bare ack. */
  payload?: unknown;
}

export interface SocketSendOptions {
  /** Reuses an envelope id: a redelivery of the same envelope. @default a new UUID */
  envelopeId?: string;
  /** Marks a redelivery (Slack counts from 1; first deliveries of events carry 0). */
  retryAttempt?: number;
  retryReason?: string;
  /** @default true for commands, view submissions, options and block actions; false for events */
  acceptsResponsePayload?: boolean;
  /** How long to wait for the ack. @default 3000, Slack's window */
  timeoutMs?: number;
}

export interface FakeSlackSocket {
  /** Sends an envelope to the newest open connection and resolves with its ack (rejects on timeout). */
  send(type: EnvelopeType, payload: object, opts?: SocketSendOptions): Promise<SocketAck>;
  /** Whether some app is connected (its WebSocket is open). */
  connected(): boolean;
  /** Open connections now (Slack allows up to 10 per app). */
  connections(): number;
  /** Connections accepted since the start, each answered with `hello`. */
  opened(): number;
  /** Close frames seen, oldest first (`code` 1000 is a normal closure by the app). */
  readonly closes: { code: number; reason: string }[];
  /** Every message the app sent, parsed, oldest first. */
  readonly received: unknown[];
  waitForConnection(ms?: number): Promise<void>;
  waitForDisconnect(ms?: number): Promise<void>;
  /** Asks every connected app to reconnect, as Slack does before recycling a connection. */
  disconnect(reason?: 'refresh_requested' | 'warning' | 'link_disabled'): void;
}

const PATH = '/socket';
const HOST = 'applink-fake';

interface Pending {
  resolve(ack: SocketAck): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** The WebSocket side of the fake, on the fake's own HTTP server (upgrades of PATH). */
export class SocketModeServer implements FakeSlackSocket {
  readonly closes: { code: number; reason: string }[] = [];
  readonly received: unknown[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly open: WebSocket[] = [];
  private readonly tickets = new Set<string>();
  private readonly pending = new Map<string, Pending>();
  private accepted = 0;

  constructor(
    private readonly server: Server,
    private readonly appId: string,
    private readonly pingMs: number,
  ) {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  /** A fresh single-use URL, as apps.connections.open answers (`ws:` here, `wss:` at Slack). */
  issueUrl(): string {
    const ticket = randomBytes(16).toString('hex');
    this.tickets.add(ticket);
    const { port } = this.server.address() as AddressInfo;
    return `ws://127.0.0.1:${port}${PATH}?ticket=${ticket}&app_id=${this.appId}`;
  }

  send(type: EnvelopeType, payload: object, opts: SocketSendOptions = {}): Promise<SocketAck> {
    const ws = this.open.at(-1);
    if (!ws) return Promise.reject(new Error('no app is connected over Socket Mode'));
    const envelopeId = opts.envelopeId ?? randomUUID();
    if (this.pending.has(envelopeId)) return Promise.reject(new Error(`${envelopeId} awaits its ack`));
    const envelope = {
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: opts.acceptsResponsePayload ?? acceptsResponse(type, payload),
      // Captured Slack traffic carries these on every events_api envelope, and on others only when retried.
      ...(type === 'events_api' || opts.retryAttempt !== undefined
        ? { retry_attempt: opts.retryAttempt ?? 0, retry_reason: opts.retryReason ?? '' }
        : {}),
    };
    return new Promise<SocketAck>((resolve, reject) => {
      const ms = opts.timeoutMs ?? 3000;
      const timer = setTimeout(() => {
        this.pending.delete(envelopeId);
        reject(new Error(`no ack for ${type} envelope ${envelopeId} within ${ms} ms`));
      }, ms);
      this.pending.set(envelopeId, { resolve, reject, timer });
      ws.send(JSON.stringify(envelope));
    });
  }

  connected(): boolean {
    return this.open.length > 0;
  }
  connections(): number {
    return this.open.length;
  }
  opened(): number {
    return this.accepted;
  }
  waitForConnection(ms = 5000): Promise<void> {
    return waitUntil(() => this.connected(), ms, 'a Socket Mode connection');
  }
  waitForDisconnect(ms = 5000): Promise<void> {
    return waitUntil(() => !this.connected(), ms, 'the Socket Mode connection to close');
  }
  disconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled' = 'refresh_requested'): void {
    for (const ws of this.open)
      ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: HOST } }));
  }

  /** Drops every connection and fails the acks still awaited. */
  close(): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error(`the fake closed before the ack of ${id}`));
    }
    this.pending.clear();
    for (const ws of [...this.open]) ws.terminate();
    this.wss.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (url.pathname !== PATH || !this.tickets.delete(ticket)) {
      // A ticket works once: a reused or made-up URL is refused before the handshake.
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    this.accepted += 1;
    this.open.push(ws);
    const heartbeat = setInterval(() => ws.ping(), this.pingMs).unref();
    ws.on('message', (data, isBinary) => this.onMessage(data.toString(), isBinary));
    ws.on('close', (code, reason) => {
      clearInterval(heartbeat);
      const at = this.open.indexOf(ws);
      if (at >= 0) this.open.splice(at, 1);
      this.closes.push({ code, reason: reason.toString() });
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.open.length,
        debug_info: { host: HOST, build_number: 1, approximate_connection_time: 3600 },
        connection_info: { app_id: this.appId },
      }),
    );
  }

  private onMessage(text: string, isBinary: boolean): void {
    let message: unknown;
    try {
      message = isBinary ? { binary: text } : JSON.parse(text);
    } catch {
      message = { unparsable: text };
    }
    this.received.push(message);
    const id = (message as { envelope_id?: unknown }).envelope_id;
    const waiting = typeof id === 'string' ? this.pending.get(id) : undefined;
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.pending.delete(id as string);
    waiting.resolve(message as SocketAck);
  }
}

/** As the docs' examples show: what a person did can be answered in the ack; events cannot. */
function acceptsResponse(type: EnvelopeType, payload: object): boolean {
  if (type === 'slash_commands') return true;
  if (type === 'events_api') return false;
  const kind = (payload as { type?: unknown }).type;
  return kind === 'view_submission' || kind === 'block_suggestion' || kind === 'block_actions';
}

async function waitUntil(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
