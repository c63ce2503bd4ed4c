/**
 * Temporal payload encryption: the codec itself (round trip, rotation, unknown key, plain payloads, tampering); a
 * real request on the Temporal dev server whose history holds ciphertext only (read without the keys, by the SDK and
 * by the `temporal` CLI) while clients with the keys read it; the /codec endpoint over real HTTP (401, 403, admin
 * token or session, CORS for the Web UI's origin only, body limit, counting); and `grantflow dev` giving the Web UI
 * its codec endpoint and a key file of its own.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Payload } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { EncryptionCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA } from '../core/codec';
import type { AppContext } from '../core/context';
import { createRequest } from '../core/create-request';
import { createKeyring, DecryptionError, newKeySpec, parseKeys, type Keyring } from '../core/keyring';
import { createMetrics } from '../core/metrics';
import { getRequest } from '../core/request-actions';
import { connectClient, connectWorker } from '../core/temporal';
import { issueToken } from '../core/tokens';
import { DEV_KEYS_FILE, devTemporalOptions, ensureDevKeys } from '../devstack/dev';
import { devServerArgs, findTemporalBinary } from '../devstack/temporal';
import { hashSessionId } from '../server/auth/sessions';
import { startApiServer, type ApiServer } from '../server/start';
import { workflowIdFor } from '../workflows/definitions';
import { createGrantflowWorker, type GrantflowWorker } from '../workers/worker';
import { connectorsFor, createHarness, type Harness } from './helpers/harness';
import { until } from './helpers/until';
import { getWorkflowBundle, testLog } from './setup/stack';

const exec = promisify(execFile);
const UI_ORIGIN = 'http://127.0.0.1:8233';

function ring(...specs: string[]): Keyring {
  return createKeyring(parseKeys(specs.join(',')));
}

function jsonPayload(value: unknown): Payload {
  return {
    metadata: { encoding: Buffer.from('json/plain'), extra: Buffer.from('kept') },
    data: Buffer.from(JSON.stringify(value)),
  };
}

const utf8 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');

/** Every string and byte field of a raw history as text, so plaintext anywhere in a payload would show. */
function rawText(value: unknown, out: string[] = []): string {
  if (value instanceof Uint8Array) out.push(Buffer.from(value).toString('latin1'));
  else if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) rawText(v, out);
  return out.join('\n');
}

/** A payload in the codec protocol's JSON form. */
function toWire(p: Payload) {
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.metadata ?? {}))
    metadata[k] = Buffer.from(v ?? []).toString('base64');
  return { metadata, data: Buffer.from(p.data ?? []).toString('base64') };
}

function fromWire(p: { metadata: Record<string, string>; data: string }): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(p.metadata)) metadata[k] = Buffer.from(v, 'base64');
  return { metadata, data: Buffer.from(p.data, 'base64') };
}

describe('payload encryption', function () {
  this.timeout(120_000);
  const k2 = newKeySpec('k2');
  const k3 = newKeySpec('k3');

  describe('the codec', () => {
    it('round-trips payloads, metadata included, and shows neither metadata nor data outside', async () => {
      const codec = new EncryptionCodec(ring(k2));
      const original = jsonPayload({ reason: 'MARKER-round-trip' });
      const [sealed] = await codec.encode([original]);
      assert.ok(sealed);
      assert.equal(utf8(sealed.metadata?.encoding), ENCRYPTED_ENCODING);
      assert.equal(utf8(sealed.metadata?.[KEY_ID_METADATA]), 'k2');
      assert.deepEqual(Object.keys(sealed.metadata ?? {}).sort(), ['encoding', KEY_ID_METADATA].sort());
      const outside = Buffer.from(sealed.data ?? []).toString('latin1');
      assert.ok(!outside.includes('MARKER') && !outside.includes('json/plain') && !outside.includes('kept'));
      const [opened] = await codec.decode([sealed]);
      assert.equal(utf8(opened?.metadata?.encoding), 'json/plain');
      assert.equal(utf8(opened?.metadata?.extra), 'kept');
      assert.deepEqual(JSON.parse(utf8(opened?.data)), { reason: 'MARKER-round-trip' });
      const [again] = await codec.encode([original]);
      assert.notDeepEqual(again?.data, sealed.data, 'a fresh IV every time');
    });

    it('decodes under any configured key and encodes under the first (rotation)', async () => {
      const [underK2] = await new EncryptionCodec(ring(k2)).encode([jsonPayload('old')]);
      const rotated = new EncryptionCodec(ring(k3, k2));
      const [opened] = await rotated.decode([underK2!]);
      assert.equal(JSON.parse(utf8(opened?.data)), 'old');
      const [fresh] = await rotated.encode([jsonPayload('new')]);
      assert.equal(utf8(fresh?.metadata?.[KEY_ID_METADATA]), 'k3');
      await assert.rejects(new EncryptionCodec(ring(k2)).decode([fresh!]), /key k3/);
    });

    it('refuses a payload under a key that is not configured, naming the key id and never a key', async () => {
      const [underK2] = await new EncryptionCodec(ring(k2)).encode([jsonPayload('x')]);
      const err = await new EncryptionCodec(ring(k3)).decode([underK2!]).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof DecryptionError, String(err));
      assert.match(err.message, /key k2.*not in the configured keys \(k3\)/);
      for (const spec of [k2, k3]) assert.ok(!err.message.includes(spec.split(':')[1]!), 'no key material');
    });

    it('passes payloads that are not encrypted through untouched', async () => {
      const plain = jsonPayload({ approve: true });
      const [out] = await new EncryptionCodec(ring(k2)).decode([plain]);
      assert.equal(out, plain);
    });

    it('refuses altered ciphertext, and a key id swapped for another configured key', async () => {
      const codec = new EncryptionCodec(ring(k3, k2));
      const [sealed] = await codec.encode([jsonPayload('x')]);
      const data = Buffer.from(sealed!.data!);
      data[20] = (data[20] ?? 0) ^ 1;
      await assert.rejects(codec.decode([{ ...sealed, data }]), /does not authenticate/);
      const swapped = { ...sealed, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
      await assert.rejects(codec.decode([swapped]), /does not authenticate/);
      const noId = { ...sealed, metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) } };
      await assert.rejects(codec.decode([noId]), /no encryption-key-id/);
    });
  });

  describe('with a real request on the Temporal dev server', () => {
    const marker = `MARKER-${randomBytes(6).toString('hex')}`;
    const keyring = ring(k3, k2);
    let h: Harness;
    let connection: NativeConnection;
    let worker: GrantflowWorker;
    let running: Promise<void>;
    let ctx: AppContext;
    let requestId: string;
    let api: ApiServer;
    const tokens: Record<string, string> = {};

    before(async () => {
      h = await createHarness({ noWorker: true });
      const settings = { connection: { address: h.temporal.address }, namespace: h.temporal.namespace };
      connection = await connectWorker(settings);
      worker = await createGrantflowWorker({
        connection,
        namespace: h.temporal.namespace,
        config: () => h.config,
        store: h.store,
        log: testLog,
        workflowBundle: await getWorkflowBundle(),
        connectors: connectorsFor(h.config),
        chatAdapters: [],
        keyring,
      });
      running = worker.run();
      ctx = { ...h.ctx, client: await connectClient(settings, { keyring }) };
      const { request } = await createRequest(ctx, h.actor('alice'), {
        flow: 'auto-read',
        resource: 'db',
        permission: 'readonly',
        reason: `incident ${marker}`,
      });
      requestId = request.id;

      // The API server reads its keys from the environment, as in production.
      const saved = process.env.GRANTFLOW_ENCRYPTION_KEYS;
      process.env.GRANTFLOW_ENCRYPTION_KEYS = [k3, k2].join(',');
      try {
        api = await startApiServer({
          ctx: h.ctx,
          metrics: createMetrics(),
          log: testLog,
          port: 0,
          host: '127.0.0.1',
          temporalUiUrl: `${UI_ORIGIN}/`,
        });
      } finally {
        if (saved === undefined) delete process.env.GRANTFLOW_ENCRYPTION_KEYS;
        else process.env.GRANTFLOW_ENCRYPTION_KEYS = saved;
      }
      for (const p of ['alice', 'carol'])
        tokens[p] = (await issueToken(h.ctx, { email: `${p}@example.com`, createdBy: 'test' })).token;
    });
    after(async () => {
      await api?.close();
      await worker?.shutdown();
      await running?.catch(() => undefined);
      await connection?.close();
      await ctx?.client.connection.close();
      await h?.close();
    });

    it('runs the request end to end with encrypted payloads, readable only with the keys', async () => {
      const revoked = await until(
        'the request to be granted and revoked',
        async () => {
          const view = await getRequest(ctx, requestId);
          return view.status === 'REVOKED' && view;
        },
        30_000,
      );
      assert.equal(revoked.reason, `incident ${marker}`, 'a client with the keys reads the workflow');

      // The same history as Temporal stores it, through a client without the codec.
      const raw = await h.ctx.client.workflowService.getWorkflowExecutionHistory({
        namespace: h.temporal.namespace,
        execution: { workflowId: workflowIdFor(requestId) },
      });
      const events = raw.history?.events ?? [];
      assert.ok(events.length > 10, `a whole life cycle (${events.length} events)`);
      const text = rawText(raw.history);
      assert.ok(!text.includes(marker), 'the reason appears nowhere in the stored history');
      assert.ok(text.includes(ENCRYPTED_ENCODING) && text.includes('k3'), 'payloads are sealed under k3');
      assert.ok(
        text.includes('alice@example.com'),
        'search attributes stay readable (and the scan sees text)',
      );

      const started = events[0]?.workflowExecutionStartedEventAttributes;
      const input = started?.input?.payloads?.[0];
      assert.equal(utf8(input?.metadata?.encoding), ENCRYPTED_ENCODING);
      const [opened] = await new EncryptionCodec(keyring).decode([input!]);
      assert.equal((JSON.parse(utf8(opened?.data)) as { reason: string }).reason, `incident ${marker}`);
      const details = events[0]?.userMetadata?.details;
      assert.equal(
        utf8(details?.metadata?.encoding),
        ENCRYPTED_ENCODING,
        'the Web UI details are sealed too',
      );

      // A client without the keys cannot read query answers either.
      await assert.rejects(getRequest(h.ctx, requestId), /binary\/encrypted/);
    });

    const call = (
      pathName: string,
      body: unknown,
      headers: Record<string, string> = {},
      method = 'POST',
    ): Promise<Response> =>
      fetch(`${api.url}${pathName}`, {
        method,
        headers: {
          ...(method === 'POST' ? { 'content-type': 'application/json' } : {}),
          'x-namespace': 'default',
          ...headers,
        },
        body: method === 'POST' ? JSON.stringify(body) : undefined,
      });
    const bearer = (person: string) => ({ authorization: `Bearer ${tokens[person]}` });

    async function session(email: string): Promise<Record<string, string>> {
      const value = randomBytes(32).toString('base64url');
      const now = new Date();
      await h.store.createSession({
        idHash: hashSessionId(value),
        email,
        csrfToken: randomBytes(32).toString('base64url'),
        authTime: now.toISOString(),
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + 3_600_000).toISOString(),
        lastSeenAt: now.toISOString(),
      });
      return { cookie: `gf_session=${value}` };
    }

    it('decodes for admins only: 401 without credentials, 403 for others, 200 with token or session', async () => {
      const originals = [jsonPayload({ reason: marker }), jsonPayload(42)];
      const sealed = await new EncryptionCodec(ring(k2)).encode(originals);
      const plain = jsonPayload('hand-written signal');
      const body = { payloads: [...sealed, plain].map(toWire) };

      const none = await call('/codec/decode', body);
      assert.equal(none.status, 401);
      assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'unauthenticated');
      assert.equal((await call('/codec/decode', body, { authorization: 'Bearer gft_nope' })).status, 401);
      const alice = await call('/codec/decode', body, bearer('alice'));
      assert.equal(alice.status, 403);
      assert.ok(!(await alice.text()).includes(marker));
      assert.equal((await call('/codec/decode', body, await session('alice@example.com'))).status, 403);

      for (const auth of [bearer('carol'), await session('carol@example.com')]) {
        const res = await call('/codec/decode', body, auth);
        assert.equal(res.status, 200, await res.clone().text());
        const out = ((await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] })
          .payloads;
        assert.deepEqual(
          out.map(fromWire),
          [...originals, plain].map((p) => fromWire(toWire(p))),
        );
      }
      // The CLI's `--codec-endpoint 'http://…/codec/{namespace}'` form.
      assert.equal((await call('/codec/default/decode', body, bearer('carol'))).status, 200);
      assert.equal((await call('/codec/default/other', body, bearer('carol'))).status, 404);
    });

    it('encodes for admins, under the current key', async () => {
      const body = { payloads: [toWire(jsonPayload({ signal: marker }))] };
      assert.equal((await call('/codec/encode', body)).status, 401);
      assert.equal((await call('/codec/encode', body, bearer('alice'))).status, 403);
      const res = await call('/codec/encode', body, bearer('carol'));
      assert.equal(res.status, 200);
      const [wire] = (
        (await res.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }
      ).payloads;
      const sealed = fromWire(wire!);
      assert.equal(utf8(sealed.metadata?.[KEY_ID_METADATA]), 'k3');
      assert.ok(!utf8(sealed.data).includes(marker));
      const [opened] = await new EncryptionCodec(keyring).decode([sealed]);
      assert.deepEqual(JSON.parse(utf8(opened?.data)), { signal: marker });
    });

    it('answers bad payloads with 400 naming the problem (an unknown key id, never a key)', async () => {
      const stranger = newKeySpec('gone');
      const sealed = await new EncryptionCodec(ring(stranger)).encode([jsonPayload('x')]);
      const res = await call('/codec/decode', { payloads: sealed.map(toWire) }, bearer('carol'));
      assert.equal(res.status, 400);
      const text = await res.text();
      assert.match(text, /decode_failed.*key gone/);
      assert.ok(!text.includes(stranger.split(':')[1]!));
      const bad = await call('/codec/decode', { payloads: [{ data: 'not base64!' }] }, bearer('carol'));
      assert.equal(bad.status, 400);
      assert.equal((await call('/codec/decode', { nope: 1 }, bearer('carol'))).status, 400);
      const huge = { payloads: [{ data: Buffer.alloc(5 * 1024 * 1024).toString('base64') }] };
      assert.equal((await call('/codec/decode', huge, bearer('carol'))).status, 413);
    });

    it("answers the Web UI's CORS preflight and calls from its origin, and no other origin", async () => {
      const preflight = (origin: string) =>
        call(
          '/codec/decode',
          undefined,
          {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type,x-namespace,authorization',
          },
          'OPTIONS',
        );
      for (const origin of [UI_ORIGIN, 'http://localhost:8233']) {
        const res = await preflight(origin);
        assert.equal(res.status, 204, origin);
        assert.equal(res.headers.get('access-control-allow-origin'), origin);
        assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
        assert.match(res.headers.get('access-control-allow-methods') ?? '', /POST/);
        const allowed = res.headers.get('access-control-allow-headers') ?? '';
        for (const header of ['content-type', 'x-namespace', 'authorization'])
          assert.match(allowed, new RegExp(header));
      }
      for (const origin of ['https://evil.example', 'http://127.0.0.1:8234']) {
        const res = await preflight(origin);
        assert.equal(res.status, 403, origin);
        assert.equal(res.headers.get('access-control-allow-origin'), null);
      }

      const sealed = await new EncryptionCodec(keyring).encode([jsonPayload(marker)]);
      const body = { payloads: sealed.map(toWire) };
      const fromUi = await call('/codec/decode', body, {
        origin: UI_ORIGIN,
        ...(await session('carol@example.com')),
      });
      assert.equal(fromUi.status, 200);
      assert.equal(fromUi.headers.get('access-control-allow-origin'), UI_ORIGIN);
      assert.equal(fromUi.headers.get('access-control-allow-credentials'), 'true');
      const evil = await call('/codec/decode', body, { origin: 'https://evil.example', ...bearer('carol') });
      assert.equal(evil.status, 403);
      assert.equal(evil.headers.get('access-control-allow-origin'), null);
      assert.ok(!(await evil.text()).includes(marker));

      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      assert.match(metrics, /grantflow_codec_requests_total\{operation="decode",outcome="ok"\} [1-9]/);
      assert.match(metrics, /grantflow_codec_requests_total\{operation="decode",outcome="forbidden"\} [1-9]/);
    });

    it('lets the temporal CLI show the history decoded through the endpoint, and only through it', async () => {
      const bin = findTemporalBinary();
      const base = ['workflow', 'show', '--address', h.temporal.address, '--namespace', h.temporal.namespace];
      const args = [...base, '--workflow-id', workflowIdFor(requestId), '--output', 'json'];
      /** The workflow input as `temporal workflow show --output json` prints it (bytes in base64). */
      const input = async (extra: string[]) => {
        const { stdout } = await exec(bin, [...args, ...extra], { maxBuffer: 16 * 1024 * 1024 });
        type Wire = { metadata: Record<string, string>; data: string };
        const history = JSON.parse(stdout) as {
          events: { workflowExecutionStartedEventAttributes?: { input: { payloads: Wire[] } } }[];
        };
        const wire = history.events[0]?.workflowExecutionStartedEventAttributes?.input.payloads[0];
        assert.ok(wire, stdout.slice(0, 2000));
        return fromWire(wire);
      };
      const sealed = await input([]);
      assert.equal(utf8(sealed.metadata?.encoding), ENCRYPTED_ENCODING);
      assert.ok(!utf8(sealed.data).includes(marker));
      const decoded = await input([
        '--codec-endpoint',
        `${api.url}/codec`,
        '--codec-auth',
        `Bearer ${tokens.carol}`,
      ]);
      assert.equal(
        utf8(decoded.metadata?.encoding),
        'json/plain',
        'the CLI decoded the payloads through /codec',
      );
      assert.equal((JSON.parse(utf8(decoded.data)) as { reason: string }).reason, `incident ${marker}`);
    });
  });

  describe('grantflow dev', () => {
    it('starts the Web UI with --ui-codec-endpoint pointing at the API server', () => {
      const opts = devTemporalOptions('/tmp/gf', { temporal: 7233, temporalUi: 8233, api: 3000 }, 'default');
      const args = devServerArgs(opts, '127.0.0.1', 'default');
      const at = args.indexOf('--ui-codec-endpoint');
      assert.ok(at > 0, args.join(' '));
      assert.equal(args[at + 1], 'http://localhost:3000/codec');
      const without = devServerArgs({ ...opts, uiCodecEndpoint: undefined }, '127.0.0.1', 'default');
      assert.ok(!without.includes('--ui-codec-endpoint'));
    });

    it('makes a key file (mode 600) once and keeps using it, unless GRANTFLOW_ENCRYPTION_KEYS is set', () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-devkeys-'));
      const saved = process.env.GRANTFLOW_ENCRYPTION_KEYS;
      try {
        delete process.env.GRANTFLOW_ENCRYPTION_KEYS;
        const first = ensureDevKeys(dir, testLog);
        const file = path.join(dir, DEV_KEYS_FILE);
        assert.ok(existsSync(file));
        assert.equal(statSync(file).mode & 0o777, 0o600);
        assert.equal(process.env.GRANTFLOW_ENCRYPTION_KEYS, readFileSync(file, 'utf8').trim());
        delete process.env.GRANTFLOW_ENCRYPTION_KEYS;
        const second = ensureDevKeys(dir, testLog);
        const sealed = first.sealText('same key');
        assert.equal(second.openText(sealed), 'same key', 'a restart keeps the key');

        process.env.GRANTFLOW_ENCRYPTION_KEYS = k2;
        assert.equal(ensureDevKeys(dir, testLog).currentKeyId, 'k2', 'the environment wins');
      } finally {
        if (saved === undefined) delete process.env.GRANTFLOW_ENCRYPTION_KEYS;
        else process.env.GRANTFLOW_ENCRYPTION_KEYS = saved;
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
