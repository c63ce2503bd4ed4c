#!/usr/bin/env node
/**
 * First step of `npm test`: checks what the test suite needs from the system and installs what it can.
 *
 * Each prerequisite is `{ name, check(), install: { apt?, pip?, run? } }`. As root (CI, this project's machines)
 * missing ones are installed: apt packages (after one `apt-get update`), pip packages, then `run()`.
 * Otherwise one line names what to install and the exit code is 1.
 * Plain CommonJS with Node built-ins only, like install-temporal.js, so it runs before TypeScript is built.
 */
'use strict';

const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const { ensureTemporal, checkTemporal, INSTALL_HINT } = require('./install-temporal');

/** Headless Chromium for the portal's browser tests: Debian's package (or GRANTFLOW_CHROMIUM). */
function hasChromium() {
  const candidates = [process.env.GRANTFLOW_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.some((p) => p && fs.existsSync(p));
}

/** MariaDB's server binary (Debian's mariadb-server), which the connector tests start in a private folder. */
function hasMariaDb() {
  return ['/usr/sbin/mariadbd', '/usr/sbin/mysqld'].some((p) => fs.existsSync(p));
}

/** Debian's nginx: a TLS-terminating gRPC proxy in front of the Temporal dev server for the mTLS tests. */
function hasNginx() {
  return [process.env.GRANTFLOW_NGINX, '/usr/sbin/nginx'].some((p) => p && fs.existsSync(p));
}

/** moto's server (PyPI moto[server]): the AWS API on loopback for the AWS connector tests. */
function hasMoto() {
  const res = spawnSync('python3', ['-c', 'import moto.server, flask'], { stdio: 'ignore' });
  return !res.error && res.status === 0;
}

/** What the tests need. */
const PREREQS = [
  {
    name: 'Temporal CLI',
    check: () => Boolean(checkTemporal()),
    install: { run: async () => Boolean(await ensureTemporal()) },
    hint: INSTALL_HINT,
  },
  {
    name: 'Chromium',
    check: hasChromium,
    // fonts-liberation: pages render with real metrics in screenshots, as in a person's browser.
    install: { apt: ['chromium', 'fonts-liberation'] },
    hint: 'Chromium for the portal tests (apt-get install chromium fonts-liberation, or set GRANTFLOW_CHROMIUM)',
  },
  {
    name: 'MariaDB',
    check: hasMariaDb,
    install: { apt: ['mariadb-server', 'mariadb-client'] },
    hint: 'MariaDB for the MySQL connector tests (apt-get install mariadb-server mariadb-client)',
  },
  {
    name: 'nginx',
    check: hasNginx,
    install: { apt: ['nginx'] },
    hint: 'nginx for the Temporal TLS tests (apt-get install nginx, or set GRANTFLOW_NGINX)',
  },
  {
    name: 'moto',
    check: hasMoto,
    install: { pip: ['moto[server]'] },
    hint: 'moto for the AWS connector tests (pip install "moto[server]")',
  },
];

function log(msg) {
  console.log(`grantflow: test prerequisites: ${msg}`);
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs a command with its output shown, so a failing install explains itself. */
function sh(cmd, args, timeoutMs) {
  log(`${cmd} ${args.join(' ')}`);
  const res = spawnSync(cmd, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: timeoutMs,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return !res.error && res.status === 0;
}

function describe(entry) {
  const ways = [];
  if (entry.install.apt) ways.push(`apt-get install ${entry.install.apt.join(' ')}`);
  if (entry.install.pip) ways.push(`pip install ${entry.install.pip.join(' ')}`);
  return entry.hint || `${entry.name} (${ways.join('; ')})`;
}

/** Installs the missing entries; returns the names that are still missing afterwards. */
async function installAll(missing) {
  const apt = missing.flatMap((e) => e.install.apt || []);
  const pip = missing.flatMap((e) => e.install.pip || []);
  if (apt.length > 0 && sh('apt-get', ['update'], 300000)) {
    sh('apt-get', ['install', '-y', '--no-install-recommends', ...apt], 900000);
  }
  if (pip.length > 0) sh('python3', ['-m', 'pip', 'install', '--disable-pip-version-check', ...pip], 600000);
  for (const entry of missing) {
    if (entry.install.run && !entry.check()) await entry.install.run();
  }
  return missing.filter((e) => !e.check());
}

async function main() {
  const missing = PREREQS.filter((e) => !e.check());
  if (missing.length === 0) {
    log(`ok (${PREREQS.map((e) => e.name).join(', ')})`);
    return 0;
  }
  if (!isRoot()) {
    console.error(`grantflow: tests need: ${missing.map(describe).join('; ')}`);
    return 1;
  }
  log(`installing: ${missing.map((e) => e.name).join(', ')}`);
  const still = await installAll(missing);
  if (still.length === 0) return 0;
  console.error(`grantflow: tests need, and installing failed: ${still.map(describe).join('; ')}`);
  return 1;
}

module.exports = { PREREQS };

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.error(`grantflow: test prerequisites check crashed: ${err && err.stack ? err.stack : err}`);
      process.exit(1);
    },
  );
}
