/**
 * The Teams app package: teams-app/manifest.json has what the v1.17 schema requires, and
 * scripts/teams-package.js turns it into a zip Teams can read — three entries at the root, the app id filled
 * in, icons that are PNGs of the sizes Teams asks for. The zip and the PNGs are read back here with readers of
 * our own, and checked with Node's zlib CRC-32, independent of the scripts' own CRC code. The API server's
 * in-memory build (chat-adapters/teams/app-package.ts, for the portal's download) must give the same bytes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32, inflateSync } from 'node:zlib';
import { readZip } from './helpers/zip';
import { TeamsPackageError, teamsAppPackage, teamsPackageRoot } from '../chat-adapters/teams/app-package';

const ROOT = resolve(__dirname, '..');
const SCRIPT = join(ROOT, 'scripts', 'teams-package.js');
const APP_ID = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const OTHER_ID = '0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d';

interface Png {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel, rows top to bottom. */
  pixels: Buffer;
}

/** Decodes an 8-bit RGBA, non-interlaced PNG (what scripts/teams-icons.js writes), checking every chunk CRC. */
function readPng(png: Buffer): Png {
  assert.deepEqual(
    [...png.subarray(0, 8)],
    [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    'PNG signature',
  );
  const chunks: { type: string; data: Buffer }[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + length);
    assert.equal(
      crc32(png.subarray(at + 4, at + 8 + length)),
      png.readUInt32BE(at + 8 + length),
      `${type} CRC`,
    );
    chunks.push({ type, data });
    at += 12 + length;
  }
  assert.equal(chunks[0]?.type, 'IHDR');
  assert.equal(chunks.at(-1)?.type, 'IEND');
  const ihdr = chunks[0].data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  assert.deepEqual([...ihdr.subarray(8, 13)], [8, 6, 0, 0, 0], '8-bit RGBA, non-interlaced');
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  return { width, height, pixels: unfilter(raw, width, height) };
}

/** Undoes PNG's per-row filters (None, Sub, Up, Average, Paeth) for 4 bytes a pixel. */
function unfilter(raw: Buffer, width: number, height: number): Buffer {
  const stride = width * 4;
  assert.equal(raw.length, (stride + 1) * height, 'image data size');
  const out = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const type = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const a = x >= 4 ? out[y * stride + x - 4] : 0;
      const b = y > 0 ? out[(y - 1) * stride + x] : 0;
      const c = x >= 4 && y > 0 ? out[(y - 1) * stride + x - 4] : 0;
      const p = a + b - c;
      const paeth =
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c)
          ? a
          : Math.abs(p - b) <= Math.abs(p - c)
            ? b
            : c;
      const predicted = [0, a, b, (a + b) >> 1, paeth][type];
      assert.ok(predicted !== undefined, `row ${y} has unknown filter type ${type}`);
      out[y * stride + x] = (raw[y * (stride + 1) + 1 + x] + predicted) & 0xff;
    }
  }
  return out;
}

function pixelsOf(png: Png): Buffer[] {
  return Array.from({ length: png.width * png.height }, (_, i) => png.pixels.subarray(i * 4, i * 4 + 4));
}

/** Runs the packaging script with no MicrosoftAppId unless `env` gives one. */
function runPackage(args: string[], env: Record<string, string> = {}) {
  const base = { ...process.env };
  delete base.MicrosoftAppId;
  return spawnSync(process.execPath, [SCRIPT, ...args], { env: { ...base, ...env }, encoding: 'utf8' });
}

function manifestIn(zipFile: string) {
  const entry = readZip(readFileSync(zipFile)).find((e) => e.name === 'manifest.json');
  assert.ok(entry, `${zipFile} has a manifest.json`);
  return JSON.parse(entry.data.toString('utf8'));
}

describe('Teams app package', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'grantflow-teams-package-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('has a manifest with the fields manifest v1.17 requires, and the bot and its commands', () => {
    const m = JSON.parse(readFileSync(join(ROOT, 'teams-app', 'manifest.json'), 'utf8'));
    assert.equal(
      m.$schema,
      'https://developer.microsoft.com/en-us/json-schemas/teams/v1.17/MicrosoftTeams.schema.json',
    );
    assert.equal(m.manifestVersion, '1.17');
    assert.match(m.version, /^\d+\.\d+\.\d+$/);
    assert.equal(m.id, '{{MICROSOFT_APP_ID}}');
    for (const key of ['websiteUrl', 'privacyUrl', 'termsOfUseUrl'])
      assert.match(m.developer[key], /^https:\/\//);
    assert.ok(m.developer.name && m.developer.name.length <= 32);
    assert.ok(m.name.short && m.name.short.length <= 30 && m.name.full && m.name.full.length <= 100);
    assert.ok(m.description.short && m.description.short.length <= 80);
    assert.ok(m.description.full && m.description.full.length <= 4000);
    assert.deepEqual(m.icons, { color: 'color.png', outline: 'outline.png' });
    assert.match(m.accentColor, /^#[0-9a-fA-F]{6}$/);
    assert.deepEqual(m.validDomains, []);
    assert.equal(m.webApplicationInfo, undefined);
    assert.equal(m.bots.length, 1);
    const bot = m.bots[0];
    assert.equal(bot.botId, '{{MICROSOFT_APP_ID}}');
    assert.deepEqual([...bot.scopes].sort(), ['groupChat', 'personal', 'team']);
    assert.equal(bot.supportsFiles, false);
    assert.equal(bot.isNotificationOnly, false);
    const commandScopes = bot.commandLists.flatMap((l: { scopes: string[] }) => l.scopes).sort();
    assert.deepEqual(commandScopes, ['personal', 'team']);
    for (const list of bot.commandLists) {
      assert.deepEqual(list.commands, [
        { title: 'request', description: 'Request temporary access' },
        { title: 'my requests', description: 'Show my requests and active grants' },
      ]);
    }
  });

  it('packages the manifest with the app id and both icons at the root of the zip', () => {
    const out = join(dir, 'nested', 'app.zip');
    const run = runPackage(['--app-id', APP_ID, '--out', out]);
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /app\.zip/);
    const entries = readZip(readFileSync(out));
    assert.deepEqual(entries.map((e) => e.name).sort(), ['color.png', 'manifest.json', 'outline.png']);
    const entry = (name: string) => entries.find((e) => e.name === name)!.data;

    const text = entry('manifest.json').toString('utf8');
    assert.doesNotMatch(text, /\{\{/);
    const manifest = JSON.parse(text);
    assert.equal(manifest.id, APP_ID);
    assert.equal(manifest.bots[0].botId, APP_ID);
    for (const name of ['color.png', 'outline.png'])
      assert.deepEqual(
        entry(name),
        readFileSync(join(ROOT, 'teams-app', name)),
        `${name} is the committed icon`,
      );

    const color = readPng(entry('color.png'));
    assert.deepEqual([color.width, color.height], [192, 192]);
    const colorPixels = pixelsOf(color);
    assert.ok(
      colorPixels.every((p) => p[3] === 255),
      'the colour icon is opaque',
    );
    const white = colorPixels.filter((p) => p[0] === 255 && p[1] === 255 && p[2] === 255).length;
    assert.ok(
      white > 1000 && white < colorPixels.length / 2,
      `a white key on a coloured square (${white} white)`,
    );

    const outline = readPng(entry('outline.png'));
    assert.deepEqual([outline.width, outline.height], [32, 32]);
    const visible = pixelsOf(outline).filter((p) => p[3] > 0);
    assert.ok(
      visible.every((p) => p[0] === 255 && p[1] === 255 && p[2] === 255),
      'outline is white only',
    );
    assert.ok(
      visible.length > 50 && visible.length < 512,
      `a shape on transparent (${visible.length} visible)`,
    );
  });

  it('takes the app id from MicrosoftAppId, and --app-id over it', () => {
    const fromEnv = join(dir, 'env.zip');
    assert.equal(runPackage(['--out', fromEnv], { MicrosoftAppId: OTHER_ID }).status, 0);
    assert.equal(manifestIn(fromEnv).bots[0].botId, OTHER_ID);

    const fromFlag = join(dir, 'flag.zip');
    assert.equal(
      runPackage([`--app-id=${APP_ID}`, '--out', fromFlag], { MicrosoftAppId: OTHER_ID }).status,
      0,
    );
    assert.equal(manifestIn(fromFlag).id, APP_ID);
    assert.equal(manifestIn(fromFlag).bots[0].botId, APP_ID);
  });

  it('makes the same bytes from the same inputs', () => {
    const [a, b] = ['a.zip', 'b.zip'].map((name) => join(dir, name));
    for (const out of [a, b]) assert.equal(runPackage(['--app-id', APP_ID, '--out', out]).status, 0);
    assert.deepEqual(readFileSync(a), readFileSync(b));
  });

  it('fails with one clear line, and writes nothing, without a usable app id', () => {
    const out = join(dir, 'none.zip');
    const missing = runPackage(['--out', out]);
    assert.equal(missing.status, 1);
    assert.equal(missing.stdout, '');
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);
    assert.match(missing.stderr, /^teams-package: no app id: set MicrosoftAppId or pass --app-id ID/);

    const bad = runPackage(['--app-id', 'not-a-guid', '--out', out]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /"not-a-guid" is not a GUID/);
    assert.equal(existsSync(out), false);
  });
});

describe("Teams app package: the API server's in-memory build", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'grantflow-teams-app-package-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `build` and returns the TeamsPackageError it throws. */
  function refusal(build: () => unknown): TeamsPackageError {
    try {
      build();
    } catch (err) {
      assert.ok(err instanceof TeamsPackageError, `expected a TeamsPackageError, got ${String(err)}`);
      return err;
    }
    assert.fail('expected the package to be refused');
  }

  it('zips the manifest with the configured id and both icons, byte for byte what the script writes', () => {
    const pkg = teamsAppPackage(APP_ID);
    assert.equal(pkg.fileName, 'grantflow-teams-app.zip');
    const entries = readZip(pkg.zip);
    assert.deepEqual(entries.map((e) => e.name).sort(), ['color.png', 'manifest.json', 'outline.png']);
    const manifest = JSON.parse(entries.find((e) => e.name === 'manifest.json')!.data.toString('utf8'));
    assert.equal(manifest.id, APP_ID);
    assert.equal(manifest.bots[0].botId, APP_ID);
    for (const name of ['color.png', 'outline.png'])
      assert.deepEqual(
        entries.find((e) => e.name === name)!.data,
        readFileSync(join(ROOT, 'teams-app', name)),
        `${name} is the committed icon`,
      );
    assert.equal(pkg.manifest.id, APP_ID);
    assert.equal(pkg.manifest.bots[0].botId, APP_ID);
    assert.deepEqual(pkg.manifest.icons, { color: 'color.png', outline: 'outline.png' });

    const out = join(dir, 'script.zip');
    const run = runPackage(['--app-id', APP_ID, '--out', out]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(pkg.zip, readFileSync(out), 'the download and the script give the same bytes');
    // Blanks around a pasted id are dropped, as the script does.
    assert.deepEqual(teamsAppPackage(` ${APP_ID}\n`).zip, pkg.zip);
    assert.notDeepEqual(teamsAppPackage(OTHER_ID).zip, pkg.zip);
  });

  it('refuses a missing or malformed app id, naming MicrosoftAppId', () => {
    for (const appId of [undefined, '', '   ', 'not-a-guid', `${APP_ID}0`, APP_ID.replace(/-/g, '')]) {
      const err = refusal(() => teamsAppPackage(appId));
      assert.match(err.message, /MicrosoftAppId/, `${JSON.stringify(appId)}: ${err.message}`);
      assert.equal(err.reason, 'app_id');
      assert.equal(err.code, 'teams_app_id');
      assert.equal(err.field, 'MicrosoftAppId');
      assert.equal(err.httpStatus, 503);
    }
    assert.match(refusal(() => teamsAppPackage('')).message, /is not set/);
    assert.match(refusal(() => teamsAppPackage('not-a-guid')).message, /"not-a-guid" is not a GUID/);
  });

  it('finds the project root from the sources and from dist/, and says so when it cannot', () => {
    assert.equal(teamsPackageRoot(), ROOT);
    assert.equal(teamsPackageRoot(join(ROOT, 'chat-adapters', 'teams')), ROOT);
    assert.equal(teamsPackageRoot(join(ROOT, 'dist', 'chat-adapters', 'teams')), ROOT);
    const lost = refusal(() => teamsPackageRoot(dir));
    assert.equal(lost.reason, 'files');
    assert.equal(lost.httpStatus, 500);
    assert.match(lost.message, /teams-app\/manifest\.json and scripts\/teams-package\.js/);
  });

  it("reports the script's own refusals, such as a missing icon, as a problem with the installed files", () => {
    mkdirSync(join(dir, 'scripts'));
    mkdirSync(join(dir, 'teams-app'));
    for (const file of ['scripts/teams-package.js', 'scripts/teams-icons.js', 'teams-app/manifest.json'])
      copyFileSync(join(ROOT, file), join(dir, file));
    copyFileSync(join(ROOT, 'teams-app', 'color.png'), join(dir, 'teams-app', 'color.png'));
    assert.equal(teamsPackageRoot(join(dir, 'dist', 'chat-adapters', 'teams')), dir);

    const err = refusal(() => teamsAppPackage(APP_ID, dir));
    assert.equal(err.reason, 'files');
    assert.equal(err.code, 'teams_package_files');
    assert.match(err.message, /outline\.png is missing/);
  });
});
