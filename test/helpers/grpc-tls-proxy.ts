/**
 * A TLS-terminating gRPC proxy in front of the Temporal dev server (which has no TLS flags of its own), for the
 * tests of Temporal over TLS: Debian's nginx on 127.0.0.1 with its own config, prefix, pid and logs in a temporary
 * folder (`grpc_pass` to the dev server, HTTP/2, optionally `ssl_verify_client on` against a local CA and an API-key
 * check on `authorization: Bearer …`). The certificates — a CA, a server certificate for a name like
 * `temporal.test` (so the TLS server name override is needed), and a client certificate — are made with `openssl`
 * at test time.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../../devstack/ports';

/** Where Debian installs nginx (scripts/test-prereqs.js installs it), or GRANTFLOW_NGINX. */
export function nginxBinary(): string {
  const bin = process.env.GRANTFLOW_NGINX ?? '/usr/sbin/nginx';
  if (!existsSync(bin))
    throw new Error(
      `nginx not found at ${bin}: the TLS tests need it (apt-get install nginx, or set GRANTFLOW_NGINX); ` +
        '`npm test` installs it when run as root',
    );
  return bin;
}

/** process.env without any TEMPORAL_* setting, and with no per-user envconfig file (XDG_CONFIG_HOME moved). */
export function envWithoutTemporal(configHome: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TEMPORAL_')) env[k] = v;
  env.XDG_CONFIG_HOME = configHome;
  return env;
}

/** PEM files made for one test run. */
export interface TlsFiles {
  dir: string;
  caCert: string;
  /** The name in the server certificate (its only subject alternative name). */
  serverName: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate from another CA, which the proxy does not trust. */
  strangerCert: string;
  strangerKey: string;
}

function openssl(args: string[], cwd: string): void {
  const res = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (res.error || res.status !== 0)
    throw new Error(`openssl ${args.join(' ')} failed: ${res.error?.message ?? res.stderr}`);
}

/** An EC P-256 key (PKCS#8 PEM) and a certificate signed by `ca` with the extensions of `section`. */
function issue(
  dir: string,
  name: string,
  subject: string,
  section: string,
  ca: { cert: string; key: string },
) {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], dir);
  openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
    ].concat(['-days', '2', '-extfile', 'ext.cnf', '-extensions', section, '-out', `${name}.crt`]),
    dir,
  );
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

function makeCa(dir: string, name: string, cn: string) {
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`], dir);
  openssl(
    ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${cn}`, '-days', '2'].concat([
      '-config',
      'ca.cnf',
      '-extensions',
      'ca',
      '-out',
      `${name}.crt`,
    ]),
    dir,
  );
  return { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
}

/** Makes a CA, a server certificate for `serverName`, a client certificate, and a client certificate of a stranger CA. */
export function makeTlsFiles(dir: string, serverName = 'temporal.test'): TlsFiles {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, 'ca.cnf'),
    '[req]\ndistinguished_name = dn\n[dn]\n[ca]\nbasicConstraints = critical,CA:TRUE\n' +
      'keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n',
  );
  writeFileSync(
    path.join(dir, 'ext.cnf'),
    '[server]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n' +
      `extendedKeyUsage = serverAuth\nsubjectAltName = DNS:${serverName}\nsubjectKeyIdentifier = hash\n` +
      'authorityKeyIdentifier = keyid\n' +
      '[client]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n' +
      'extendedKeyUsage = clientAuth\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n',
  );
  const ca = makeCa(dir, 'ca', 'Grantflow Test CA');
  const server = issue(dir, 'server', `/CN=${serverName}`, 'server', ca);
  const client = issue(dir, 'client', '/CN=grantflow-worker', 'client', ca);
  const strangerCa = makeCa(dir, 'stranger-ca', 'Stranger CA');
  const stranger = issue(dir, 'stranger', '/CN=stranger', 'client', strangerCa);
  return {
    dir,
    caCert: ca.cert,
    serverName,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    strangerCert: stranger.cert,
    strangerKey: stranger.key,
  };
}

export interface GrpcTlsProxyOptions {
  /** host:port of the plaintext gRPC server behind the proxy (the dev server). */
  upstream: string;
  tls: TlsFiles;
  /** Folder for the config, pid, logs and temp files (one proxy per folder). */
  dir: string;
  /** Ask for and verify a client certificate signed by the test CA (mutual TLS). @default true */
  requireClientCert?: boolean;
  /** When set, a call without `authorization: Bearer <apiKey>` gets gRPC status 16 (UNAUTHENTICATED). */
  apiKey?: string;
  /**
   * gRPC methods (`/package.Service/Method`) answered with status 7 (PERMISSION_DENIED) instead of being passed on,
   * as Temporal Cloud answers operator calls it does not allow.
   */
  denyMethods?: string[];
  /** Port on 127.0.0.1 (default: a free one); kept across stop() and start(). */
  port?: number;
  /** How long to wait for nginx to listen, in seconds. @default 15 */
  readySeconds?: number;
}

export interface GrpcTlsProxy {
  /** `127.0.0.1:<port>`, for TEMPORAL_ADDRESS. */
  address: string;
  port: number;
  /** Stops nginx (SIGTERM, then SIGKILL); safe to call twice. */
  stop(): Promise<void>;
  /** Starts nginx again on the same port. */
  start(): Promise<void>;
  /** nginx's error log, for failure messages. */
  errorLog(): string;
}

function nginxConfig(o: GrpcTlsProxyOptions, port: number): string {
  const d = o.dir;
  const auth = o.apiKey
    ? // Answered by @unauthenticated below: a trailers-only gRPC answer (HTTP 200, grpc-status 16, no body).
      `      if ($http_authorization != "Bearer ${o.apiKey}") { return 418; }\n`
    : '';
  const mtls =
    (o.requireClientCert ?? true)
      ? `    ssl_client_certificate ${o.tls.caCert};\n    ssl_verify_client on;\n    ssl_verify_depth 2;\n`
      : '';
  return `# Written by test/helpers/grpc-tls-proxy.ts
daemon off;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root root;\n' : ''}pid ${d}/nginx.pid;
error_log ${d}/error.log info;
events { worker_connections 256; }
http {
  access_log ${d}/access.log;
  client_body_temp_path ${d}/tmp/body;
  proxy_temp_path ${d}/tmp/proxy;
  fastcgi_temp_path ${d}/tmp/fastcgi;
  uwsgi_temp_path ${d}/tmp/uwsgi;
  scgi_temp_path ${d}/tmp/scgi;
  # Temporal long-polls for up to ~70 s; keep streams and connections open well past that.
  keepalive_requests 1000000;
  keepalive_timeout 600s;
  client_body_timeout 600s;
  client_max_body_size 0;
  grpc_read_timeout 600s;
  grpc_send_timeout 600s;
  server {
    listen 127.0.0.1:${port} ssl http2;
    ssl_certificate ${o.tls.serverCert};
    ssl_certificate_key ${o.tls.serverKey};
    ssl_protocols TLSv1.2 TLSv1.3;
${mtls}    error_page 418 = @unauthenticated;
    location / {
${auth}      grpc_pass grpc://${o.upstream};
    }
${(o.denyMethods ?? []).map((m) => `    location = ${m} {\n      return 419;\n    }\n`).join('')}    error_page 419 = @denied;
    location @denied {
      default_type application/grpc;
      add_header grpc-status 7 always;
      add_header grpc-message "not allowed by this proxy" always;
      return 200 "";
    }
    location @unauthenticated {
      default_type application/grpc;
      add_header grpc-status 16 always;
      add_header grpc-message "missing or wrong API key" always;
      return 200 "";
    }
  }
}
`;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Starts nginx in front of `upstream`; resolves once it listens. Stop it in after(). */
export async function startGrpcTlsProxy(options: GrpcTlsProxyOptions): Promise<GrpcTlsProxy> {
  const bin = nginxBinary();
  const port = options.port ?? (await freePort());
  const dir = options.dir;
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const confFile = path.join(dir, 'nginx.conf');
  writeFileSync(confFile, nginxConfig(options, port));
  const errorLogFile = path.join(dir, 'error.log');
  const errorLog = () => (existsSync(errorLogFile) ? readFileSync(errorLogFile, 'utf8') : '');
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const killOnExit = () => child?.kill('SIGKILL');

  const start = async () => {
    let output = '';
    const proc = spawn(bin, ['-p', dir, '-c', confFile, '-e', errorLogFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (d) => (output += d));
    proc.stderr?.on('data', (d) => (output += d));
    let gone = false;
    exited = new Promise((resolve) =>
      proc.once('exit', () => {
        gone = true;
        resolve();
      }),
    );
    process.once('exit', killOnExit);
    const deadline = Date.now() + (options.readySeconds ?? 15) * 1000;
    while (!(await canConnect(port))) {
      if (gone || Date.now() > deadline) {
        proc.kill('SIGKILL');
        throw new Error(`nginx did not start on 127.0.0.1:${port}:\n${output}\n${errorLog().slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    const proc = child;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    process.removeListener('exit', killOnExit);
  };
  await start();
  return { address: `127.0.0.1:${port}`, port, start, stop, errorLog };
}
