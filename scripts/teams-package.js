#!/usr/bin/env node
/**
 * Builds the Teams app package to upload to Teams: a zip of teams-app/manifest.json (with the bot's Microsoft
 * App ID filled in), color.png and outline.png, all at the zip's root.
 *
 *   node scripts/teams-package.js [--app-id ID] [--out FILE]
 *
 * The app id comes from --app-id, else from the MicrosoftAppId environment variable (the name Grantflow itself
 * reads); the zip goes to dist/teams-app.zip unless --out says otherwise. See docs/teams.md.
 *
 * Plain CommonJS with Node built-ins only: the zip format is written here (local headers, central directory,
 * end record), with zlib's raw deflate for the data, so packaging needs no install and no build. The API server
 * loads this file too (chat-adapters/teams/app-package.ts calls buildTeamsPackage), so the portal's download and
 * this command give the same bytes; the Docker image ships it with teams-app/ for that reason.
 */
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const ROOT = path.resolve(__dirname, '..');
const APP_DIR = path.join(ROOT, 'teams-app');
const DEFAULT_OUT = path.join(ROOT, 'dist', 'teams-app.zip');
const PLACEHOLDER = '{{MICROSOFT_APP_ID}}';
const GUID = /^[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12}$/i;
const USAGE = 'usage: node scripts/teams-package.js [--app-id ID] [--out FILE]';

/** A problem the person running the script can fix; main prints its message as one line. */
class PackageError extends Error {}

// The same CRC-32 (ISO 3309) serves PNG chunks and zip entries.
const { crc32 } = require('./teams-icons');

/** 1980-01-01 00:00, the zip epoch: a fixed time makes the same inputs give a byte-identical package. */
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
/** "Made by" Unix (3), zip 2.0, so unzip gives the files mode 0644 rather than guessing. */
const MADE_BY = (3 << 8) | 20;
const FILE_MODE = (0o100644 << 16) >>> 0;

/**
 * Builds a zip archive in memory. Each entry is deflated, or stored when deflate would not make it smaller
 * (the PNGs are already compressed).
 * @param {{ name: string, data: Buffer }[]} entries
 * @returns {Buffer}
 */
function buildZip(entries) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const { name, data } of entries) {
    const deflated = zlib.deflateRawSync(data, { level: 9 });
    const method = deflated.length < data.length ? 8 : 0;
    const body = method === 8 ? deflated : data;
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = crc32(data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0, 6); // flags: sizes and CRC are in this header, no data descriptor
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28); // extra field length
    locals.push(local, nameBytes, body);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY, 4);
    local.copy(central, 6, 4, 30); // version needed … name length, extra length: the same as the local header
    central.writeUInt16LE(0, 32); // comment length
    central.writeUInt16LE(0, 34); // disk number
    central.writeUInt16LE(0, 36); // internal attributes
    central.writeUInt32LE(FILE_MODE, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);

    offset += local.length + nameBytes.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8); // entries on this disk
  end.writeUInt16LE(entries.length, 10); // entries in total
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Parses the command line; throws PackageError for anything it does not know. */
function parseArgs(argv) {
  const options = { appId: undefined, out: undefined, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    if (flag === '--help' || flag === '-h') options.help = true;
    else if (flag === '--app-id' || flag === '--out') {
      const value = inline ?? argv[++i];
      if (!value) throw new PackageError(`${flag} needs a value (${USAGE})`);
      options[flag === '--app-id' ? 'appId' : 'out'] = value;
    } else throw new PackageError(`unknown argument ${JSON.stringify(arg)} (${USAGE})`);
  }
  return options;
}

/** The manifest with the app id filled in (its text and parsed), checked to be JSON with nothing left to fill. */
function fillManifest(text, appId) {
  const filled = text.split(PLACEHOLDER).join(appId);
  let manifest;
  try {
    manifest = JSON.parse(filled);
  } catch (err) {
    throw new PackageError(`teams-app/manifest.json is not valid JSON: ${err.message}`);
  }
  const left = filled.match(/\{\{[A-Za-z0-9_]+\}\}/);
  if (left)
    throw new PackageError(`teams-app/manifest.json has a placeholder this script does not fill: ${left[0]}`);
  if (manifest.id !== appId || manifest.bots?.[0]?.botId !== appId)
    throw new PackageError(`teams-app/manifest.json must have ${PLACEHOLDER} as its id and its bot's botId`);
  return { text: filled, manifest };
}

/**
 * Builds the package in memory: checks the app id, fills it into the manifest and zips the manifest with its
 * icons. Writes nothing: the API server sends the same bytes to the browser (chat-adapters/teams/app-package.ts).
 * @param {string | undefined} appId the bot's Microsoft App ID (a GUID); surrounding blanks are ignored
 * @param {{ appDir?: string }} [options] the folder with manifest.json and the icons (default: teams-app/)
 * @returns {{ zip: Buffer, manifest: object, entries: string[], appId: string }}
 */
function buildTeamsPackage(appId, { appDir = APP_DIR } = {}) {
  const id = (appId ?? '').trim();
  if (!id)
    throw new PackageError(
      "no app id: set MicrosoftAppId or pass --app-id ID (the Azure Bot's Microsoft App ID; see docs/teams.md)",
    );
  if (!GUID.test(id))
    throw new PackageError(`the app id ${JSON.stringify(id)} is not a GUID (Teams only accepts a GUID)`);
  const { text, manifest } = fillManifest(fs.readFileSync(path.join(appDir, 'manifest.json'), 'utf8'), id);
  const entries = [{ name: 'manifest.json', data: Buffer.from(text, 'utf8') }];
  for (const file of [manifest.icons.color, manifest.icons.outline]) {
    const iconPath = path.join(appDir, file);
    if (!fs.existsSync(iconPath))
      throw new PackageError(`${path.relative(ROOT, iconPath)} is missing: run node scripts/teams-icons.js`);
    entries.push({ name: file, data: fs.readFileSync(iconPath) });
  }
  return { zip: buildZip(entries), manifest, entries: entries.map((e) => e.name), appId: id };
}

/**
 * Writes the package and returns where it went.
 * @param {{ appId?: string, out?: string }} options
 * @param {NodeJS.ProcessEnv} env
 */
function packageTeamsApp(options, env = process.env) {
  // Built before anything is written, so a refused app id leaves no file and no folder behind.
  const { zip, appId, entries } = buildTeamsPackage(options.appId ?? env.MicrosoftAppId);
  const out = path.resolve(options.out ?? DEFAULT_OUT);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, zip);
  return { out, appId, entries, bytes: zip.length };
}

function main() {
  try {
    const options = parseArgs(process.argv.slice(2));
    if (options.help) {
      console.log(USAGE);
      return;
    }
    const done = packageTeamsApp(options);
    console.log(
      `wrote ${path.relative(process.cwd(), done.out) || done.out} (${done.entries.join(', ')}; app id ` +
        `${done.appId}; ${done.bytes} bytes): upload it in Teams or the Teams Admin Center (docs/teams.md)`,
    );
  } catch (err) {
    if (!(err instanceof PackageError)) throw err;
    console.error(`teams-package: ${err.message}`);
    process.exitCode = 1;
  }
}

module.exports = { buildTeamsPackage, buildZip, crc32, GUID, packageTeamsApp, PackageError };

if (require.main === module) main();
