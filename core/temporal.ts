/**
 * Connecting to Temporal: the dev server, any self-hosted cluster (plain, TLS or mutual TLS), or Temporal Cloud
 * (API key or mTLS). Settings come from the environment with @temporalio/envconfig's names (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH / _DATA,
 * TEMPORAL_TLS_CLIENT_KEY_PATH / _DATA, TEMPORAL_TLS_SERVER_CA_CERT_PATH / _DATA, TEMPORAL_TLS_SERVER_NAME,
 * TEMPORAL_GRPC_META_*) and its TOML config file profiles (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE).
 *
 * The same settings object feeds the worker's NativeConnection and the client's Connection. Certificates and keys
 * are read and checked here, once, so a bad one is reported naming its variable (or config-file key) and file —
 * never its content; the API key is never logged or put in a message.
 */
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  loadClientConfigProfile,
  toClientOptions,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { ensureSearchAttributes } from '../devstack/temporal';
import {
  compareSearchAttributes,
  GRANTFLOW_SEARCH_ATTRIBUTES,
  type SearchAttributeTypeName,
} from '../devstack/search-attributes';
import { dataConverterFor } from './codec';
import { GrantflowError, TemporalUnreachableError } from './errors';
import { keyringFromEnv, type Keyring } from './keyring';

// ---- Errors of this module -------------------------------------------------------------------------------

/** The Temporal connection settings cannot be used: a file that cannot be read, a key without its certificate… */
export class TemporalConfigError extends GrantflowError {
  constructor(message: string) {
    super(message, 'temporal_config', 500, 2);
  }
}

/**
 * Temporal did not accept the connection; the message says what went wrong (refused, TLS, name, credentials) and
 * which setting fixes it. A TemporalUnreachableError, so it keeps that code and exit code (8).
 */
export class TemporalConnectError extends TemporalUnreachableError {
  constructor(
    address: string,
    namespace: string,
    readonly diagnosis: ConnectDiagnosis,
    cause: unknown,
  ) {
    super(address, namespace, cause);
    this.message = `cannot connect to Temporal at ${address} (namespace ${namespace}): ${diagnosis.problem}. ${diagnosis.fix}`;
  }
}

/** Grantflow's search attributes could not be created or have the wrong type on the namespace. */
export class SearchAttributesError extends GrantflowError {
  constructor(message: string) {
    super(message, 'temporal_search_attributes', 500, 8);
  }
}

// ---- Settings ----------------------------------------------------------------------------------------------

/** Where each setting came from and what it is, without any key material: for logs, errors and `grantflow doctor`. */
export interface TemporalSettingsSummary {
  address: string;
  namespace: string;
  /** The envconfig profile used, when a config file was read. */
  profile?: string;
  configFile?: string;
  tls: boolean;
  /** TLS server name override (TEMPORAL_TLS_SERVER_NAME). */
  serverName?: string;
  /** The client certificate's subject, issuer and expiry, and where it came from. */
  clientCert?: { source: string; subject: string; issuer: string; validTo: string };
  /** Where the CA that verifies the server came from (otherwise the system's roots). */
  serverCa?: { source: string; subject: string };
  /** Where the API key came from (never the key). */
  apiKey?: string;
  /** Names of extra gRPC headers (TEMPORAL_GRPC_META_*), without values. */
  grpcMeta?: string[];
}

export interface TemporalSettings {
  connection: NativeConnectionOptions;
  namespace: string;
  /** Set by {@link temporalSettings}; absent for settings built by hand (tests, `grantflow dev`). */
  summary?: TemporalSettingsSummary;
}

const DEFAULT_ADDRESS = 'localhost:7233';

/** The envconfig names of one TLS file setting, for messages. */
interface TlsItem {
  pathVar: string;
  dataVar: string;
  tomlKey: string;
  what: string;
}

const CLIENT_CERT: TlsItem = {
  pathVar: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  dataVar: 'TEMPORAL_TLS_CLIENT_CERT_DATA',
  tomlKey: 'client_cert',
  what: 'client certificate',
};
const CLIENT_KEY: TlsItem = {
  pathVar: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  dataVar: 'TEMPORAL_TLS_CLIENT_KEY_DATA',
  tomlKey: 'client_key',
  what: 'client private key',
};
const SERVER_CA: TlsItem = {
  pathVar: 'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  dataVar: 'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  tomlKey: 'server_ca_cert',
  what: 'server CA certificate',
};

/** The config file envconfig reads: TEMPORAL_CONFIG_FILE, else its per-user default. */
function configFilePath(env: NodeJS.ProcessEnv): string | undefined {
  if (env.TEMPORAL_CONFIG_FILE) return env.TEMPORAL_CONFIG_FILE;
  let dir: string | undefined;
  if (process.platform === 'win32') dir = env.APPDATA;
  else if (process.platform === 'darwin')
    dir = env.HOME && path.join(env.HOME, 'Library', 'Application Support');
  else dir = env.XDG_CONFIG_HOME || (env.HOME && path.join(env.HOME, '.config'));
  return dir ? path.join(dir, 'temporalio', 'temporal.toml') : undefined;
}

interface Loaded {
  bytes: Buffer;
  source: string;
}

/** Reads one TLS file setting, naming the variable (or the config file's key) that set it in any error. */
function loadTlsItem(
  item: TlsItem,
  src: ConfigDataSource | undefined,
  env: NodeJS.ProcessEnv,
  fileOrigin: string,
): Loaded | undefined {
  if (!src) return undefined;
  if ('path' in src) {
    const source = env[item.pathVar]
      ? `${item.pathVar}=${src.path}`
      : `${fileOrigin} tls.${item.tomlKey}_path=${src.path}`;
    try {
      return { bytes: readFileSync(src.path), source };
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new TemporalConfigError(`${source}: cannot read the ${item.what} file (${why})`);
    }
  }
  const source = env[item.dataVar] ? item.dataVar : `${fileOrigin} tls.${item.tomlKey}_data`;
  return { bytes: Buffer.from(src.data), source };
}

function parseCertificate(item: TlsItem, loaded: Loaded): X509Certificate {
  try {
    return new X509Certificate(loaded.bytes);
  } catch {
    throw new TemporalConfigError(`${loaded.source}: the ${item.what} is not a PEM certificate`);
  }
}

function parseKey(loaded: Loaded): KeyObject {
  try {
    return createPrivateKey(loaded.bytes);
  } catch {
    throw new TemporalConfigError(`${loaded.source}: the client private key is not a PEM private key`);
  }
}

/** The envconfig profile, with clear errors for a missing config file or profile and unreadable TOML. */
function loadProfile(env: NodeJS.ProcessEnv): { profile: ClientConfigProfile; file?: string; name?: string } {
  const file = configFilePath(env);
  if (env.TEMPORAL_CONFIG_FILE && !existsSync(env.TEMPORAL_CONFIG_FILE))
    throw new TemporalConfigError(`TEMPORAL_CONFIG_FILE=${env.TEMPORAL_CONFIG_FILE}: no such file`);
  const fileUsed = file && existsSync(file) ? file : undefined;
  try {
    const profile = loadClientConfigProfile({ overrideEnvVars: env as Record<string, string> });
    return { profile, file: fileUsed, name: fileUsed ? (env.TEMPORAL_PROFILE ?? 'default') : undefined };
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    if (env.TEMPORAL_PROFILE && /not found/i.test(why))
      throw new TemporalConfigError(
        `TEMPORAL_PROFILE=${env.TEMPORAL_PROFILE}: no such profile in ${fileUsed ?? 'the Temporal config file'}`,
      );
    throw new TemporalConfigError(`cannot read the Temporal config file ${fileUsed ?? file}: ${why}`);
  }
}

/**
 * Reads and checks the connection settings; explicit overrides (e.g. from `grantflow dev`) win over the
 * environment. The result feeds both {@link connectWorker} and {@link connectClient}.
 * @throws TemporalConfigError naming the variable (or config-file key) and file at fault.
 */
export function temporalSettings(
  overrides: { address?: string; namespace?: string } = {},
  env: NodeJS.ProcessEnv = process.env,
): TemporalSettings {
  const { profile, file, name } = loadProfile(env);
  const fileOrigin = `profile "${name ?? 'default'}" in ${file ?? 'the Temporal config file'}:`;
  if (['1', 'true'].includes(env.TEMPORAL_TLS_DISABLE_HOST_VERIFICATION ?? ''))
    throw new TemporalConfigError(
      'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION is not supported: set TEMPORAL_TLS_SERVER_NAME to a name in the ' +
        "server's certificate instead",
    );
  const tls = profile.tls;
  const certFile = loadTlsItem(CLIENT_CERT, tls?.clientCert, env, fileOrigin);
  const keyFile = loadTlsItem(CLIENT_KEY, tls?.clientKey, env, fileOrigin);
  const caFile = loadTlsItem(SERVER_CA, tls?.serverCACert, env, fileOrigin);
  if (certFile && !keyFile)
    throw new TemporalConfigError(
      `${certFile.source} is set but not the client private key: set ${CLIENT_KEY.pathVar} too`,
    );
  if (keyFile && !certFile)
    throw new TemporalConfigError(
      `${keyFile.source} is set but not the client certificate: set ${CLIENT_CERT.pathVar} too`,
    );
  const summary: Partial<TemporalSettingsSummary> = {};
  if (certFile && keyFile) {
    const cert = parseCertificate(CLIENT_CERT, certFile);
    const key = parseKey(keyFile);
    if (!cert.checkPrivateKey(key))
      throw new TemporalConfigError(
        `the client certificate (${certFile.source}) and private key (${keyFile.source}) do not belong together`,
      );
    if (Date.parse(cert.validTo) < Date.now())
      throw new TemporalConfigError(`${certFile.source}: the client certificate expired on ${cert.validTo}`);
    summary.clientCert = {
      source: certFile.source,
      subject: oneLine(cert.subject),
      issuer: oneLine(cert.issuer),
      validTo: cert.validTo,
    };
  }
  if (caFile)
    summary.serverCa = {
      source: caFile.source,
      subject: oneLine(parseCertificate(SERVER_CA, caFile).subject),
    };

  // From here envconfig's own mapping, on the bytes read above (so each file is read once, and checked).
  const checked: ClientConfigProfile = {
    ...profile,
    tls: tls && {
      ...tls,
      clientCert: certFile && { data: certFile.bytes },
      clientKey: keyFile && { data: keyFile.bytes },
      serverCACert: caFile && { data: caFile.bytes },
    },
  };
  const options = toClientOptions(checked);
  const connection: NativeConnectionOptions = { ...options.connectionOptions };
  for (const key of Object.keys(connection) as (keyof NativeConnectionOptions)[])
    if (connection[key] === undefined) delete connection[key];
  connection.address = overrides.address ?? connection.address ?? DEFAULT_ADDRESS;
  const namespace = overrides.namespace ?? options.namespace ?? 'default';
  const tlsOn = Boolean(connection.tls);
  const tlsConfig = typeof connection.tls === 'object' && connection.tls ? connection.tls : undefined;
  return {
    connection,
    namespace,
    summary: {
      address: connection.address,
      namespace,
      ...(file ? { profile: name, configFile: file } : {}),
      tls: tlsOn,
      ...(tlsConfig?.serverNameOverride ? { serverName: tlsConfig.serverNameOverride } : {}),
      ...summary,
      ...(connection.apiKey
        ? { apiKey: env.TEMPORAL_API_KEY ? 'TEMPORAL_API_KEY' : `${fileOrigin} api_key` }
        : {}),
      ...(connection.metadata ? { grpcMeta: Object.keys(connection.metadata) } : {}),
    },
  };
}

function oneLine(dn: string): string {
  return dn.split('\n').join(', ');
}

/** One line for logs: where Temporal is and how Grantflow authenticates (never key material). */
export function describeTemporalSettings(settings: TemporalSettings): string {
  const s = settings.summary;
  const address = String(settings.connection.address);
  if (!s) return `${address}, namespace ${settings.namespace}${settings.connection.tls ? ', TLS' : ''}`;
  const parts = [`${s.address}`, `namespace ${s.namespace}`];
  if (s.tls) {
    const tls = ['TLS'];
    if (s.serverName) tls.push(`server name ${s.serverName}`);
    tls.push(s.serverCa ? `CA from ${s.serverCa.source}` : "the system's CAs");
    if (s.clientCert) tls.push(`client certificate ${s.clientCert.subject}`);
    parts.push(tls.join(', '));
  } else parts.push('no TLS');
  if (s.apiKey) parts.push(`API key from ${s.apiKey}`);
  if (s.configFile) parts.push(`profile ${s.profile} of ${s.configFile}`);
  return parts.join('; ');
}

// ---- Diagnosing a failed connection -----------------------------------------------------------------------------

/** What went wrong connecting, and which setting fixes it. */
export interface ConnectDiagnosis {
  kind:
    | 'refused'
    | 'dns'
    | 'timeout'
    | 'tls-untrusted'
    | 'tls-name'
    | 'tls-client-cert-required'
    | 'tls-client-cert-refused'
    | 'tls-expected'
    | 'tls-unexpected'
    | 'unauthenticated'
    | 'permission-denied'
    | 'other';
  problem: string;
  fix: string;
}

/** Every message in an error's cause chain (gRPC details included), for matching. */
function messagesOf(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 6; depth++) {
    if (e instanceof Error) {
      parts.push(e.message);
      const details = (e as { details?: unknown }).details;
      if (typeof details === 'string') parts.push(details);
      e = (e as { cause?: unknown }).cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(' | ');
}

function grpcCodeOf(err: unknown): number | undefined {
  let e: unknown = err;
  for (let depth = 0; e && depth < 6; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The first line of the underlying error, trimmed, for the message. */
function rootMessage(err: unknown): string {
  const all = messagesOf(err).split(' | ');
  const last =
    all.filter((m) => m && !/^Failed to connect to Temporal server$/.test(m)).pop() ?? all[0] ?? '';
  return last
    .split('\n')[0]!
    .replace(/\.? Resolution note: .*$/, '')
    .slice(0, 300);
}

// Error texts of grpc-js (the client) and of tonic/rustls (the worker), by what they mean.
const NAME_MISMATCH =
  /notvalidforname|does not match certificate|hostname\/ip does not match|not valid for name|certificate is not valid for|altnames/;
const CLIENT_CERT_REQUIRED =
  /certificate required|certificaterequired|no required ssl certificate|alert number 116/;
const UNTRUSTED =
  /unknownissuer|unknown issuer|unable to get (local )?issuer|self[- ]signed certificate|certificate verify failed|unable to verify the first certificate|invalidcertificate|invalid peer certificate/;
const CERT_REFUSED =
  /bad certificate|badcertificate|unknown ca|unknownca|alert number 4[28]|certificate unknown|decrypt error|access denied/;
const HTTP_400 = /http status code 400|status: 400|400 bad request/;
const UNAUTHENTICATED =
  /unauthenticated|does not have valid authentication credentials|http status code 401|status: 401/;
const PERMISSION = /permission ?denied|does not have permission|http status code 403|status: 403/;
const NOT_TLS =
  /wrong version number|packet length too long|record layer failure|invalidcontenttype|invalidmessage|corrupt message|first record does not look like a tls handshake|ssl routines|tls handshake eof/;
const NOT_PLAINTEXT =
  /plain http request was sent to https|protocol error|http2 error|frame size|connection reset|econnreset|unexpected eof|stream removed|connection closed|operation was canceled|received http2 header/;
const REFUSED = /econnrefused|connection refused|tcp connect error|connect failed/;
const DNS =
  /enotfound|eai_again|dns error|failed to lookup address|name resolution|name or service not known/;
const TIMEOUT = /deadline|timed out|timeout/;

/** Reads a failed connect (grpc-js for the client, Rust core for the worker) into a problem and its fix. */
export function diagnoseConnectError(err: unknown, settings: TemporalSettings): ConnectDiagnosis {
  const t = messagesOf(err).toLowerCase();
  const address = String(settings.connection.address);
  const s = settings.summary;
  const tlsOn = Boolean(settings.connection.tls) || Boolean(settings.connection.apiKey);
  const apiKey = Boolean(settings.connection.apiKey);
  const tlsConfig = typeof settings.connection.tls === 'object' ? settings.connection.tls : undefined;
  const clientCert = Boolean(tlsConfig?.clientCertPair);
  const code = grpcCodeOf(err);
  const raw = rootMessage(err);
  const serverName = tlsConfig?.serverNameOverride ?? address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const certRequired = (): ConnectDiagnosis => ({
    kind: 'tls-client-cert-required',
    problem: `the server requires a client certificate (mutual TLS) and none was sent (${raw})`,
    fix: 'Set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH to a certificate the server trusts.',
  });
  const certRefused = (): ConnectDiagnosis => ({
    kind: 'tls-client-cert-refused',
    problem: s?.clientCert
      ? `the server refused the client certificate ${s.clientCert.subject} (${raw})`
      : `the server refused the client certificate (${raw})`,
    fix: s?.clientCert
      ? `Use a client certificate signed by a CA the server trusts (${s.clientCert.source} is issued by ${s.clientCert.issuer}).`
      : 'Use a client certificate signed by a CA the server trusts (TEMPORAL_TLS_CLIENT_CERT_PATH).',
  });
  if (tlsOn && NAME_MISMATCH.test(t))
    return {
      kind: 'tls-name',
      problem: `the server's TLS certificate is not valid for the name ${serverName} (${raw})`,
      fix: 'Set TEMPORAL_TLS_SERVER_NAME to a name listed in the certificate (its subject alternative names).',
    };
  if (tlsOn && CLIENT_CERT_REQUIRED.test(t)) return certRequired();
  if (tlsOn && UNTRUSTED.test(t))
    return {
      kind: 'tls-untrusted',
      problem: `the server's TLS certificate is not signed by a CA this client trusts (${raw})`,
      fix: s?.serverCa
        ? `Check that ${s.serverCa.source} holds the CA that signed the server's certificate.`
        : "Set TEMPORAL_TLS_SERVER_CA_CERT_PATH to the CA that signed the server's certificate.",
    };
  // A TLS proxy that verifies client certificates (nginx `ssl_verify_client on`) completes the handshake and
  // answers HTTP 400 when the certificate is missing or not trusted.
  if (tlsOn && HTTP_400.test(t)) {
    const d = clientCert ? certRefused() : certRequired();
    return {
      ...d,
      problem: clientCert
        ? `the server (or a TLS proxy in front of it) answered HTTP 400: most likely it refused the client certificate${s?.clientCert ? ` ${s.clientCert.subject}` : ''} (${raw})`
        : `the server (or a TLS proxy in front of it) answered HTTP 400 to a connection without a client certificate: most likely it requires a client certificate (mutual TLS) (${raw})`,
    };
  }
  if (tlsOn && CERT_REFUSED.test(t)) return certRefused();
  if (code === 16 || UNAUTHENTICATED.test(t))
    return {
      kind: 'unauthenticated',
      problem: apiKey ? `the server refused the API key (${raw})` : `the server wants credentials (${raw})`,
      fix: apiKey
        ? `Check ${s?.apiKey ?? 'TEMPORAL_API_KEY'}: it may be revoked, expired, or for another account or namespace.`
        : 'Set TEMPORAL_API_KEY (Temporal Cloud API keys) or a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH).',
    };
  if (code === 7 || PERMISSION.test(t))
    return {
      kind: 'permission-denied',
      problem: `the server does not allow these credentials on namespace ${settings.namespace} (${raw})`,
      fix: "Grant the API key or certificate access to the namespace (in Temporal Cloud: the namespace's permissions), or check TEMPORAL_NAMESPACE.",
    };
  if (tlsOn && NOT_TLS.test(t))
    return {
      kind: 'tls-unexpected',
      problem: `TLS is on but ${address} does not answer TLS (${raw})`,
      fix: 'If the server has no TLS, unset the TEMPORAL_TLS_* settings (and set TEMPORAL_TLS=false with an API key); else check TEMPORAL_ADDRESS.',
    };
  if (REFUSED.test(t))
    return {
      kind: 'refused',
      problem: `nothing accepts connections at ${address} (${raw})`,
      fix: 'Check TEMPORAL_ADDRESS (host:port) and that the Temporal frontend (or its proxy) is running; `npm start` runs a dev server.',
    };
  if (DNS.test(t))
    return {
      kind: 'dns',
      problem: `the host in ${address} cannot be resolved (${raw})`,
      fix: 'Check the host name in TEMPORAL_ADDRESS.',
    };
  if (!tlsOn && (NOT_PLAINTEXT.test(t) || HTTP_400.test(t)))
    return {
      kind: 'tls-expected',
      problem: `${address} seems to expect TLS and this client speaks plaintext (${raw})`,
      fix: 'Set TEMPORAL_TLS=true (plus TEMPORAL_TLS_SERVER_CA_CERT_PATH for a private CA, and a client certificate for mutual TLS).',
    };
  if (code === 4 || TIMEOUT.test(t))
    return {
      kind: 'timeout',
      problem: `no answer from ${address} in time (${raw})`,
      fix: 'Check TEMPORAL_ADDRESS, firewalls between here and the server, and whether the server is TLS-only (TEMPORAL_TLS=true).',
    };
  return {
    kind: 'other',
    problem: raw || 'unknown error',
    fix: 'Check TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the TEMPORAL_TLS_* / TEMPORAL_API_KEY settings (`grantflow doctor` checks them one by one).',
  };
}

// ---- Connecting -----------------------------------------------------------------------------------------------

/** gRPC status UNIMPLEMENTED: an old server without GetSystemInfo, which is fine. */
const GRPC_UNIMPLEMENTED_STATUS = 12;

/**
 * One GetSystemInfo call on a throwaway connection without the SDK's retry interceptor, so a refused connection or
 * TLS handshake fails at once with its reason (the retrying connection only says "deadline exceeded").
 * @returns the error, or undefined when the server answered.
 */
async function probeOnce(settings: TemporalSettings, timeoutMs: number): Promise<unknown> {
  const probe = Connection.lazy({
    ...(settings.connection as ConnectionOptions),
    connectTimeout: timeoutMs,
    interceptors: [],
  });
  try {
    await probe.withDeadline(Date.now() + timeoutMs, () => probe.workflowService.getSystemInfo({}));
    return undefined;
  } catch (err) {
    return grpcCodeOf(err) === GRPC_UNIMPLEMENTED_STATUS ? undefined : err;
  } finally {
    await probe.close().catch(() => undefined);
  }
}

/** Failures that may pass while a server starts; the others (TLS, credentials) need a change of settings. */
const TRANSIENT_KINDS: ReadonlySet<ConnectDiagnosis['kind']> = new Set([
  'refused',
  'dns',
  'timeout',
  'other',
]);

/**
 * The client's connection (grpc-js), from the same settings as the worker's. A first call without retries finds
 * a TLS or credentials problem at once, with its reason; a server that is not up yet is waited for up to
 * `connectTimeoutMs` (unless `waitForServer` is false, as in `grantflow doctor`).
 */
export async function connectClientConnection(
  settings: TemporalSettings,
  options: { connectTimeoutMs?: number; waitForServer?: boolean } = {},
): Promise<Connection> {
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const opts: ConnectionOptions = {
    ...(settings.connection as ConnectionOptions),
    connectTimeout: timeoutMs,
  };
  let first: unknown;
  try {
    first = await probeOnce(settings, Math.min(timeoutMs, 5_000));
  } catch (err) {
    // Options the client library refuses (e.g. an API key and an authorization header at once).
    throw new TemporalConfigError(`the Temporal connection settings are not usable: ${rootMessage(err)}`);
  }
  if (first === undefined) return Connection.lazy(opts);
  if (options.waitForServer === false || !TRANSIENT_KINDS.has(diagnoseConnectError(first, settings).kind))
    throw connectError(settings, first);
  const connection = Connection.lazy(opts);
  try {
    await connection.ensureConnected();
    return connection;
  } catch {
    await connection.close().catch(() => undefined);
    throw connectError(settings, first);
  }
}

/** The client encrypts payloads with `keyring` (default: GRANTFLOW_ENCRYPTION_KEYS, when set). */
export async function connectClient(
  settings: TemporalSettings,
  options: { keyring?: Keyring } = {},
): Promise<Client> {
  const keyring = options.keyring ?? keyringFromEnv();
  const connection = await connectClientConnection(settings);
  return new Client({
    connection,
    namespace: settings.namespace,
    ...(keyring ? { dataConverter: dataConverterFor(keyring) } : {}),
  });
}

/** The worker's connection (Rust core), from the same settings as the client's. */
export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(settings.connection);
  } catch (err) {
    throw connectError(settings, err);
  }
}

function connectError(settings: TemporalSettings, err: unknown): TemporalConnectError {
  return new TemporalConnectError(
    String(settings.connection.address),
    settings.namespace,
    diagnoseConnectError(err, settings),
    err,
  );
}

// ---- Search attributes ----------------------------------------------------------------------------------------------

const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNIMPLEMENTED = 12;
const GRPC_UNAUTHENTICATED = 16;

/** The tcld command that creates Grantflow's search attributes (all, or those named) on a Temporal Cloud namespace. */
export function searchAttributesTcldCommand(namespace: string, names: string[] = []): string {
  const attrs = Object.entries(GRANTFLOW_SEARCH_ATTRIBUTES).filter(
    ([n]) => names.length === 0 || names.includes(n),
  );
  return (
    `tcld namespace search-attributes add --namespace ${namespace} ` +
    attrs.map(([n, t]) => `--search-attribute ${n}=${t}`).join(' ')
  );
}

function tcldHint(namespace: string, names: string[]): string {
  return (
    `On Temporal Cloud, create them with tcld (${searchAttributesTcldCommand(namespace, names)}) or in the Cloud ` +
    'UI, then run `grantflow migrate --skip-temporal` for the tables'
  );
}

function operatorRefusal(err: unknown, namespace: string, action: string, names: string[]): Error {
  const code = grpcCodeOf(err);
  const why = rootMessage(err);
  if (code === GRPC_NOT_FOUND)
    return new SearchAttributesError(
      `namespace ${namespace} does not exist (${why}): create it, or set TEMPORAL_NAMESPACE to an existing one`,
    );
  if (code === GRPC_PERMISSION_DENIED || code === GRPC_UNIMPLEMENTED || code === GRPC_UNAUTHENTICATED)
    return new SearchAttributesError(
      `the server does not allow ${action} through the operator API on namespace ${namespace} (${why}). ` +
        `${tcldHint(namespace, names)}; elsewhere, use credentials with operator rights.`,
    );
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Creates the Grantflow search attributes that the namespace lacks (through the client connection's operator
 * service) and waits until they are listed. Idempotent.
 * @returns the attributes created (empty when all existed).
 * @throws SearchAttributesError when one has another type, the namespace is missing, or the operator API is not
 *   allowed (Temporal Cloud: created with tcld instead).
 */
export async function ensureGrantflowSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<{ name: string; type: SearchAttributeTypeName }[]> {
  let existing: Record<string, number>;
  try {
    const res = await connection.operatorService.listSearchAttributes({ namespace });
    existing = Object.fromEntries(Object.entries(res.customAttributes ?? {}).map(([k, v]) => [k, Number(v)]));
  } catch (err) {
    throw operatorRefusal(err, namespace, 'listing search attributes', []);
  }
  const { missing, wrongType } = compareSearchAttributes(existing);
  if (wrongType.length)
    throw new SearchAttributesError(
      `${wrongType.map((w) => `search attribute ${w.name} is ${w.actual} on namespace ${namespace}, but Grantflow needs ${w.wanted}`).join('; ')}. ` +
        'Temporal cannot change a type in place: remove it (`temporal operator search-attribute remove`) if nothing uses it, or use another namespace',
    );
  if (!missing.length) return [];
  try {
    await ensureSearchAttributes(connection, namespace, GRANTFLOW_SEARCH_ATTRIBUTES);
  } catch (err) {
    throw operatorRefusal(
      err,
      namespace,
      'adding search attributes',
      missing.map((m) => m.name),
    );
  }
  return missing;
}
