/**
 * A Bolt receiver on the API server's Fastify: every Slack request (commands, interactivity, options, events)
 * arrives at POST /slack/events. Each one is verified (v0 signature, 5-minute window) before Bolt sees it, and
 * answered as soon as the listener acks; the work after the ack goes on.
 */
import { verifySlackRequest, type App, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';

/** How long a listener may take to ack before Slack would give up (it waits 3 s). */
const ACK_TIMEOUT_MS = 2800;
/** Slack's window for X-Slack-Request-Timestamp, in either direction. */
const MAX_CLOCK_SKEW_SECONDS = 5 * 60;

export class FastifySlackReceiver implements Receiver {
  private app?: App;

  constructor(
    private readonly signingSecret: string,
    private readonly log: Logger,
  ) {}

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {}
  async stop(): Promise<void> {}

  /** Adds POST /slack/events, in its own scope so the raw body is kept for the signature. */
  register(server: FastifyInstance, path = '/slack/events'): void {
    void server.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
      scope.post(path, (req, reply) => this.handle(req, reply));
    });
  }

  private async handle(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const raw = typeof req.body === 'string' ? req.body : '';
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    try {
      // Bolt refuses only stale requests; one dated ahead is outside the same 5-minute window.
      if (timestamp > Date.now() / 1000 + MAX_CLOCK_SKEW_SECONDS)
        throw new Error('x-slack-request-timestamp is more than 5 minutes in the future');
      verifySlackRequest({
        signingSecret: this.signingSecret,
        body: raw,
        headers: {
          'x-slack-signature': String(req.headers['x-slack-signature'] ?? ''),
          'x-slack-request-timestamp': timestamp,
        },
      });
    } catch (err) {
      this.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'refused an unverified Slack request',
      );
      return reply.code(401).send({ error: 'invalid signature' });
    }
    let body: Record<string, unknown>;
    try {
      body = parseBody(raw, String(req.headers['content-type'] ?? ''));
    } catch {
      return reply.code(400).send({ error: 'unreadable body' });
    }
    if (body.type === 'url_verification') return reply.send({ challenge: body.challenge });
    if (!this.app) return reply.code(503).send({ error: 'Slack app not ready' });
    return this.dispatch(this.app, body, req, reply);
  }

  private dispatch(app: App, body: Record<string, unknown>, req: FastifyRequest, reply: FastifyReply) {
    return new Promise<void>((resolve) => {
      let acked = false;
      const timer = setTimeout(() => {
        if (acked) return;
        acked = true;
        this.log.error({ type: body.type }, 'Slack listener did not ack in time');
        void reply.code(500).send();
        resolve();
      }, ACK_TIMEOUT_MS);
      const event: ReceiverEvent = {
        body,
        retryNum: numberHeader(req.headers['x-slack-retry-num']),
        retryReason: req.headers['x-slack-retry-reason'] as string | undefined,
        ack: async (response?: unknown) => {
          if (acked) return;
          acked = true;
          clearTimeout(timer);
          if (response === undefined || response === '') void reply.code(200).send('');
          else if (typeof response === 'string') void reply.code(200).type('text/plain').send(response);
          else void reply.code(200).send(response);
          resolve();
        },
      };
      app.processEvent(event).catch((err: unknown) => {
        this.log.error({ err: err instanceof Error ? err.message : String(err) }, 'Slack listener failed');
        if (!acked) {
          acked = true;
          clearTimeout(timer);
          void reply.code(500).send();
          resolve();
        }
      });
    });
  }
}

function parseBody(raw: string, contentType: string): Record<string, unknown> {
  if (contentType.startsWith('application/json')) return JSON.parse(raw) as Record<string, unknown>;
  const form = new URLSearchParams(raw);
  const payload = form.get('payload');
  if (payload) return JSON.parse(payload) as Record<string, unknown>;
  return Object.fromEntries(form.entries());
}

function numberHeader(value: string | string[] | undefined): number | undefined {
  const n = Number(Array.isArray(value) ? value[0] : value);
  return Number.isFinite(n) ? n : undefined;
}
