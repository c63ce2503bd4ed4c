#!/usr/bin/env node
/**
 * The image's HEALTHCHECK (see Dockerfile). A container running `grantflow server` is healthy while GET /healthz
 * on GRANTFLOW_PORT answers 200 in time; `grantflow worker` likewise on GRANTFLOW_WORKER_HEALTH_PORT when that is set
 * (the worker's health listener). Without a listener (`migrate`, a worker without that port, …) a container is
 * healthy while it runs. The command comes from /proc/1/cmdline: PID 1 is node, or docker-init in front of it
 * (`init: true`).
 * Plain CommonJS with Node built-ins only: it runs in the runtime image next to the compiled CLI. test/deploy.test.ts
 * loads it as a module to check both decisions.
 */
/* global require, module, process, console */
'use strict';

const fs = require('node:fs');
const http = require('node:http');

/** Global options of the CLI that take a value, so that value is not mistaken for the command. */
const OPTIONS_WITH_VALUE = new Set(['-c', '--config', '--as']);
const TIMEOUT_MS = 4000;

/**
 * The grantflow subcommand in a command line (as argv strings), `server` when none is given (the image's default
 * CMD), or undefined when the command line does not run the grantflow CLI.
 * @param {string[]} args
 * @returns {string | undefined}
 */
function grantflowCommand(args) {
  const script = args.findIndex((arg) => arg.endsWith('grantflow.js'));
  if (script === -1) return undefined;
  for (let i = script + 1; i < args.length; i++) {
    if (OPTIONS_WITH_VALUE.has(args[i])) i++;
    else if (!args[i].startsWith('-')) return args[i];
  }
  return 'server';
}

/**
 * PID 1's command line, or [] when it cannot be read.
 * @returns {string[]}
 */
function pid1Args() {
  try {
    return fs.readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * The liveness URL of `command`'s HTTP listener as seen from inside the container, or undefined when it has none.
 * @param {string | undefined} command
 * @param {Record<string, string | undefined>} env
 * @returns {string | undefined}
 */
function healthzUrl(command, env) {
  let port;
  if (command === 'server') port = env.GRANTFLOW_PORT || '3000';
  else if (command === 'worker') port = env.GRANTFLOW_WORKER_HEALTH_PORT;
  if (!port) return undefined;
  const host = env.GRANTFLOW_HOST;
  const local = !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}/healthz`;
}

/**
 * Resolves to { ok, detail }: ok when `url` answers 200 within `timeoutMs`. Never rejects.
 * @param {string} url
 * @param {number} [timeoutMs]
 * @returns {Promise<{ ok: boolean, detail: string }>}
 */
function probe(url, timeoutMs = TIMEOUT_MS) {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve({ ok: res.statusCode === 200, detail: `HTTP ${res.statusCode}` });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, detail: err.message }));
  });
}

/** @returns {Promise<number>} the exit code */
async function main() {
  const command = grantflowCommand(pid1Args());
  const url = healthzUrl(command, process.env);
  if (!url) {
    console.log(`grantflow ${command ?? '(not the CLI)'}: no health listener; healthy while running`);
    return 0;
  }
  const { ok, detail } = await probe(url);
  console.log(`${url}: ${detail}`);
  return ok ? 0 : 1;
}

module.exports = { grantflowCommand, healthzUrl, probe };

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err) => {
      console.log(`healthcheck failed: ${err && err.message ? err.message : err}`);
      process.exit(1);
    },
  );
}
