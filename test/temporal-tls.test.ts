/**
 * Temporal over TLS, as a production install connects: nginx in front of the dev server terminates TLS (the dev
 * server has none), with mutual TLS on one port and an API-key check on another. Settings come from the
 * envconfig variables through core/temporal.ts and reach both the worker's NativeConnection (Rust core) and the
 * client's Connection (grpc-js): a real access request completes through the proxy; a missing client certificate,
 * a wrong server name and a missing or wrong API key are refused with errors that say which setting to fix; bad
 * certificate settings name their variable and file.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { AppContext } from '../core/context';
import { createRequest } from '../core/create-request';
import { getRequest } from '../core/request-actions';
import {
  connectClient,
  connectWorker,
  describeTemporalSettings,
  TemporalConfigError,
  TemporalConnectError,
  temporalSettings,
} from '../core/temporal';
import { createGrantflowWorker, type GrantflowWorker } from '../workers/worker';
import { connectorsFor, createHarness, type Harness } from './helpers/harness';
import {
  envWithoutTemporal,
  makeTlsFiles,
  startGrpcTlsProxy,
  type GrpcTlsProxy,
  type TlsFiles,
} from './helpers/grpc-tls-proxy';
import { until } from './helpers/until';
import { getTestTemporal, getWorkflowBundle, testLog } from './setup/stack';

const API_KEY = 'gf-test-api-key-0123456789abcdef';

describe('Temporal over TLS (nginx: mutual TLS, server name, API key)', function () {
  this.timeout(90_000);
  let dir: string;
  let tls: TlsFiles;
  let mtls: GrpcTlsProxy;
  let keyed: GrpcTlsProxy;
  let base: NodeJS.ProcessEnv;

  /** The settings for the mTLS proxy, with `extra` set (undefined deletes a variable). */
  const mtlsEnv = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => {
    const env: NodeJS.ProcessEnv = {
      ...base,
      TEMPORAL_ADDRESS: mtls.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: tls.caCert,
      TEMPORAL_TLS_SERVER_NAME: tls.serverName,
      TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientKey,
      ...extra,
    };
    for (const [k, v] of Object.entries(extra)) if (v === undefined) delete env[k];
    return env;
  };
  const keyEnv = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv =>
    mtlsEnv({
      TEMPORAL_ADDRESS: keyed.address,
      TEMPORAL_TLS_CLIENT_CERT_PATH: undefined,
      TEMPORAL_TLS_CLIENT_KEY_PATH: undefined,
      ...extra,
    });

  /** Connects a client with `env`, closes it, and returns the error (or undefined when it connected). */
  async function clientError(env: NodeJS.ProcessEnv): Promise<Error | undefined> {
    try {
      const client = await connectClient(temporalSettings({}, env));
      await client.workflowService.describeNamespace({ namespace: 'default' });
      await client.connection.close();
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }
  async function workerError(env: NodeJS.ProcessEnv): Promise<Error | undefined> {
    try {
      const connection = await connectWorker(temporalSettings({}, env));
      await connection.workflowService.describeNamespace({ namespace: 'default' });
      await connection.close();
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  before(async () => {
    const temporal = await getTestTemporal();
    dir = mkdtempSync(path.join(os.tmpdir(), 'gf-tls-'));
    base = envWithoutTemporal(path.join(dir, 'no-config'));
    tls = makeTlsFiles(path.join(dir, 'pki'));
    [mtls, keyed] = await Promise.all([
      startGrpcTlsProxy({ upstream: temporal.address, tls, dir: path.join(dir, 'mtls') }),
      startGrpcTlsProxy({
        upstream: temporal.address,
        tls,
        dir: path.join(dir, 'apikey'),
        requireClientCert: false,
        apiKey: API_KEY,
      }),
    ]);
  });
  after(async () => {
    await mtls?.stop();
    await keyed?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('a worker and a client with the client certificate', () => {
    let h: Harness;
    let connection: NativeConnection | undefined;
    let worker: GrantflowWorker | undefined;
    let running: Promise<void> | undefined;
    let client: Client | undefined;

    before(async () => {
      h = await createHarness({ noWorker: true });
    });
    after(async () => {
      await worker?.shutdown();
      await running?.catch(() => undefined);
      await connection?.close();
      await client?.connection.close();
      await h?.close();
    });

    it('complete a real access request through the proxy', async function () {
      const settings = temporalSettings({}, mtlsEnv());
      const tlsConfig = settings.connection.tls;
      assert.ok(tlsConfig && typeof tlsConfig === 'object');
      assert.equal(tlsConfig.serverNameOverride, 'temporal.test');
      assert.ok(tlsConfig.clientCertPair && tlsConfig.serverRootCACertificate);
      const described = describeTemporalSettings(settings);
      assert.match(described, /server name temporal\.test/);
      assert.match(described, /client certificate CN=grantflow-worker/);
      assert.ok(!described.includes('PRIVATE KEY') && !described.includes('BEGIN'), 'no key material');

      connection = await connectWorker(settings);
      worker = await createGrantflowWorker({
        connection,
        namespace: settings.namespace,
        config: () => h.config,
        store: h.store,
        log: testLog,
        workflowBundle: await getWorkflowBundle(),
        connectors: connectorsFor(h.config),
        chatAdapters: [],
      });
      running = worker.run();
      client = await connectClient(settings);
      const ctx: AppContext = { ...h.ctx, client };
      const { request } = await createRequest(ctx, h.actor('alice'), {
        flow: 'auto-read',
        resource: 'db',
        permission: 'readonly',
        reason: 'over mutual TLS',
      });
      await until(
        'ACTIVE over TLS',
        async () => (await getRequest(ctx, request.id)).status === 'ACTIVE',
        30_000,
      );
      assert.equal(await h.canRead('alice'), true);
      await until(
        'REVOKED over TLS',
        async () => (await getRequest(ctx, request.id)).status === 'REVOKED',
        30_000,
      );
      assert.equal(await h.canRead('alice'), false);

      // Both connections went through nginx: the client started the workflow, the worker completed its tasks.
      const access = readFileSync(path.join(dir, 'mtls', 'access.log'), 'utf8');
      assert.match(access, /WorkflowService\/StartWorkflowExecution/);
      assert.match(access, /WorkflowService\/RespondWorkflowTaskCompleted/);
      assert.match(access, /WorkflowService\/RespondActivityTaskCompleted/);
    });
  });

  it('without a client certificate, both connections are refused and the error says to set one', async () => {
    const env = mtlsEnv({
      TEMPORAL_TLS_CLIENT_CERT_PATH: undefined,
      TEMPORAL_TLS_CLIENT_KEY_PATH: undefined,
    });
    for (const err of [await clientError(env), await workerError(env)]) {
      assert.ok(err instanceof TemporalConnectError, String(err));
      assert.match(err.message, /requires a client certificate/);
      assert.match(err.message, /TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH/);
    }
    // A certificate from a CA the proxy does not trust is refused too.
    const stranger = mtlsEnv({
      TEMPORAL_TLS_CLIENT_CERT_PATH: tls.strangerCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: tls.strangerKey,
    });
    for (const err of [await clientError(stranger), await workerError(stranger)]) {
      assert.ok(err instanceof TemporalConnectError, String(err));
      assert.match(err.message, /client certificate/);
    }
  });

  it('a server name not in the certificate fails verification; the override passes', async () => {
    for (const env of [
      mtlsEnv({ TEMPORAL_TLS_SERVER_NAME: undefined }),
      mtlsEnv({ TEMPORAL_TLS_SERVER_NAME: 'wrong.test' }),
    ]) {
      const wanted = env.TEMPORAL_TLS_SERVER_NAME ?? '127.0.0.1';
      for (const err of [await clientError(env), await workerError(env)]) {
        assert.ok(err instanceof TemporalConnectError, String(err));
        assert.equal(err.diagnosis.kind, 'tls-name', err.message);
        assert.ok(err.message.includes(`not valid for the name ${wanted}`), err.message);
        assert.match(err.message, /Set TEMPORAL_TLS_SERVER_NAME/);
      }
    }
    // Without the test CA, the certificate is not trusted at all.
    const noCa = mtlsEnv({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: undefined });
    for (const err of [await clientError(noCa), await workerError(noCa)]) {
      assert.ok(err instanceof TemporalConnectError, String(err));
      assert.equal(err.diagnosis.kind, 'tls-untrusted', err.message);
      assert.match(err.message, /TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    }
    assert.equal(await clientError(mtlsEnv()), undefined);
    assert.equal(await workerError(mtlsEnv()), undefined);
  });

  it('an API key: TEMPORAL_API_KEY passes for the client and the worker; none or a wrong one is refused', async () => {
    const settings = temporalSettings({}, keyEnv({ TEMPORAL_API_KEY: API_KEY }));
    assert.equal(settings.connection.apiKey, API_KEY);
    assert.equal(settings.summary?.apiKey, 'TEMPORAL_API_KEY');
    assert.ok(!describeTemporalSettings(settings).includes(API_KEY), 'the key is never described');
    assert.equal(await clientError(keyEnv({ TEMPORAL_API_KEY: API_KEY })), undefined);
    assert.equal(await workerError(keyEnv({ TEMPORAL_API_KEY: API_KEY })), undefined);

    for (const err of [await clientError(keyEnv()), await workerError(keyEnv())]) {
      assert.ok(err instanceof TemporalConnectError, String(err));
      assert.equal(err.diagnosis.kind, 'unauthenticated', err.message);
      assert.match(err.message, /Set TEMPORAL_API_KEY/);
    }
    const wrong = keyEnv({ TEMPORAL_API_KEY: 'not-the-key-0123456789' });
    for (const err of [await clientError(wrong), await workerError(wrong)]) {
      assert.ok(err instanceof TemporalConnectError, String(err));
      assert.match(err.message, /refused the API key/);
      assert.match(err.message, /Check TEMPORAL_API_KEY/);
      assert.ok(!err.message.includes('not-the-key'), 'the key is not in the message');
    }
  });

  it('bad certificate settings name the variable and the file, never the content', () => {
    const refused = (extra: Record<string, string | undefined>, pattern: RegExp) => {
      assert.throws(
        () => temporalSettings({}, mtlsEnv(extra)),
        (err: unknown) => {
          assert.ok(err instanceof TemporalConfigError, String(err));
          assert.match(err.message, pattern);
          assert.ok(!err.message.includes('BEGIN'), 'no PEM in the message');
          return true;
        },
      );
    };
    const missing = path.join(dir, 'nope.pem');
    refused(
      { TEMPORAL_TLS_CLIENT_CERT_PATH: missing },
      new RegExp(
        `TEMPORAL_TLS_CLIENT_CERT_PATH=${missing}: cannot read the client certificate file \\(ENOENT\\)`,
      ),
    );
    refused(
      { TEMPORAL_TLS_SERVER_CA_CERT_PATH: missing },
      /TEMPORAL_TLS_SERVER_CA_CERT_PATH=.*nope\.pem: cannot read the server CA certificate file/,
    );
    refused({ TEMPORAL_TLS_CLIENT_KEY_PATH: undefined }, /set TEMPORAL_TLS_CLIENT_KEY_PATH too/);
    refused(
      { TEMPORAL_TLS_CLIENT_KEY_PATH: tls.clientCert },
      /TEMPORAL_TLS_CLIENT_KEY_PATH=.*client\.crt: the client private key is not a PEM private key/,
    );
    refused(
      { TEMPORAL_TLS_CLIENT_CERT_PATH: tls.clientKey },
      /TEMPORAL_TLS_CLIENT_CERT_PATH=.*client\.key: the client certificate is not a PEM certificate/,
    );
    refused({ TEMPORAL_TLS_CLIENT_KEY_PATH: tls.strangerKey }, /do not belong together/);
    refused({ TEMPORAL_CONFIG_FILE: missing }, /TEMPORAL_CONFIG_FILE=.*nope\.pem: no such file/);
  });
});
