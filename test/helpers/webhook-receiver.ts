/**
 * A real webhook receiver for tests: node:http on 127.0.0.1 (free port) that checks every request's signature with
 * verifyWebhookSignature (401 when it fails), records what arrives, and can be told to fail, answer a fixed status,
 * or hang so the sender times out.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  verifyWebhookSignature,
  type VerifyWebhookSignatureResult,
} from '../../connectors/webhook/signature';

/** One request as it arrived, whatever was answered. */
export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  verification: VerifyWebhookSignatureResult;
  /** What the receiver answered (undefined while hanging). */
  status?: number;
}

/** A verified event that the receiver accepted (2xx). */
export interface ReceivedEvent {
  eventId: string;
  timestamp: string;
  signature: string;
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  body: Record<string, unknown>;
}

export interface WebhookReceiver {
  /** The URL to configure, including `path`. */
  url: string;
  port: number;
  /** Every request, in order of arrival (including refused and hanging ones). */
  requests: ReceivedRequest[];
  /** Verified events that were answered 2xx. */
  events: ReceivedEvent[];
  /** Answer the next `n` verified requests with `status` (default 500), then succeed again. */
  failNext(n: number, status?: number, body?: string): void;
  /** Answer every verified request with this status and body until reset(). */
  respondWith(status: number, body?: string, contentType?: string): void;
  /** Never answer verified requests until reset(). */
  hang(): void;
  /** Back to answering 200 `{"ok":true}`, and forget what arrived. */
  reset(): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: {
  secret: string;
  path?: string;
}): Promise<WebhookReceiver> {
  const path = options.path ?? '/hooks/grantflow';
  const requests: ReceivedRequest[] = [];
  const events: ReceivedEvent[] = [];
  let failures: { left: number; status: number; body: string } = { left: 0, status: 500, body: '' };
  let fixed: { status: number; body: string; contentType: string } | undefined;
  let hanging = false;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => {
        const value = req.headers[name];
        return Array.isArray(value) ? value.join(',') : value;
      };
      const verification = verifyWebhookSignature({
        secret: options.secret,
        timestamp: header('x-grantflow-timestamp'),
        signature: header('x-grantflow-signature'),
        body: rawBody,
      });
      const record: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        verification,
      };
      requests.push(record);
      const answer = (status: number, body: string, contentType = 'text/plain') => {
        record.status = status;
        // A redirect points somewhere real, so a sender that followed it would be noticed.
        const location = status >= 300 && status < 400 ? { location: `${path}/moved` } : {};
        res.writeHead(status, { 'content-type': contentType, ...location }).end(body);
      };
      if (req.method !== 'POST' || req.url !== path) return answer(404, 'not found');
      if (!verification.valid) return answer(401, `bad signature (${verification.reason})`);
      if (hanging) return; // the sender's timeout ends it
      if (failures.left > 0) {
        failures.left -= 1;
        return answer(failures.status, failures.body);
      }
      if (fixed && (fixed.status < 200 || fixed.status >= 300))
        return answer(fixed.status, fixed.body, fixed.contentType);
      events.push({
        eventId: header('x-grantflow-event-id') ?? '',
        timestamp: header('x-grantflow-timestamp') ?? '',
        signature: header('x-grantflow-signature') ?? '',
        headers: req.headers,
        rawBody,
        body: JSON.parse(rawBody) as Record<string, unknown>,
      });
      if (fixed) return answer(fixed.status, fixed.body, fixed.contentType);
      answer(200, '{"ok":true}', 'application/json');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    requests,
    events,
    failNext(n, status = 500, body = 'receiver failing on purpose') {
      failures = { left: n, status, body };
    },
    respondWith(status, body = '', contentType = 'text/plain') {
      fixed = { status, body, contentType };
    },
    hang() {
      hanging = true;
    },
    reset() {
      failures = { left: 0, status: 500, body: '' };
      fixed = undefined;
      hanging = false;
      requests.length = 0;
      events.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
