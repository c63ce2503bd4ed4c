/**
 * The Teams app package (manifest.json with the bot's Microsoft App ID, and its two icons, zipped) built in
 * memory, for the admin portal's download. The zip itself is made by scripts/teams-package.js, the same code
 * `npm run teams-package` runs: one copy of it, so the download and the command give the same bytes.
 *
 * That script and teams-app/ sit outside the TypeScript sources, so they are found on disk at run time: walking
 * up from this file reaches the project root from chat-adapters/teams/ (tsx) and from dist/chat-adapters/teams/
 * (compiled) alike, and the Docker image copies both next to dist/.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { GrantflowError } from '../../core/errors';

/** What the download is called in the browser. */
export const TEAMS_PACKAGE_FILE_NAME = 'grantflow-teams-app.zip';

/** The fields of the filled-in manifest that Grantflow reads back (the file has more). */
export interface TeamsManifest {
  manifestVersion: string;
  /** The app's own version; Teams wants it raised when an uploaded package changes. */
  version: string;
  /** The Microsoft App ID, also each bot's botId. */
  id: string;
  name: { short: string; full?: string };
  icons: { color: string; outline: string };
  bots: { botId: string; scopes: string[] }[];
}

export interface TeamsAppPackage {
  /** The zip to upload in Teams or the Teams Admin Center. */
  zip: Buffer;
  manifest: TeamsManifest;
  /** A name for the download, e.g. in Content-Disposition. */
  fileName: string;
}

/** Why the package cannot be built: the app id is missing or malformed, or the package's files are not there. */
export class TeamsPackageError extends GrantflowError {
  constructor(
    message: string,
    /** `app_id`: MicrosoftAppId must be set or corrected; `files`: this installation lacks the script or teams-app/. */
    readonly reason: 'app_id' | 'files',
  ) {
    super(
      message,
      reason === 'app_id' ? 'teams_app_id' : 'teams_package_files',
      // A server setting, not the caller's request, is at fault either way.
      reason === 'app_id' ? 503 : 500,
      reason === 'app_id' ? 2 : 1,
      reason === 'app_id' ? 'MicrosoftAppId' : undefined,
    );
  }
}

/** The part of scripts/teams-package.js used here. */
interface PackageScript {
  buildTeamsPackage(
    appId: string,
    options: { appDir: string },
  ): { zip: Buffer; manifest: TeamsManifest; entries: string[]; appId: string };
  GUID: RegExp;
  PackageError: new (message: string) => Error;
}

const MANIFEST = path.join('teams-app', 'manifest.json');
const SCRIPT = path.join('scripts', 'teams-package.js');

/** The folder that holds teams-app/manifest.json and scripts/teams-package.js, searched from `from` upwards. */
export function teamsPackageRoot(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, MANIFEST)) && existsSync(path.join(dir, SCRIPT))) return dir;
    if (path.dirname(dir) === dir)
      throw new TeamsPackageError(
        `cannot build the Teams app package: no folder above ${from} has ${MANIFEST} and ${SCRIPT} ` +
          '(an image or install without them; the Dockerfile copies both next to dist/)',
        'files',
      );
  }
}

/**
 * Builds the package for the bot `appId` (MicrosoftAppId), e.g. `teamsSettings(config).appId`.
 * @param root the project root; found from this file's place when not given
 */
export function teamsAppPackage(
  appId: string | undefined,
  root: string = teamsPackageRoot(),
): TeamsAppPackage {
  // A computed path: tsc leaves the .js outside rootDir alone, and it is read from the root at run time.
  const script = require(path.join(root, SCRIPT)) as PackageScript;
  const id = (appId ?? '').trim();
  if (!id)
    throw new TeamsPackageError(
      "MicrosoftAppId is not set (nor teams.appId in grantflow.yaml): set it to the Azure Bot's Microsoft App ID " +
        '(see docs/teams.md)',
      'app_id',
    );
  if (!script.GUID.test(id))
    throw new TeamsPackageError(
      `MicrosoftAppId ${JSON.stringify(id)} is not a GUID; Teams only accepts the Azure Bot's Microsoft App ID, ` +
        'which is one (see docs/teams.md)',
      'app_id',
    );
  try {
    const built = script.buildTeamsPackage(id, { appDir: path.join(root, 'teams-app') });
    return { zip: built.zip, manifest: built.manifest, fileName: TEAMS_PACKAGE_FILE_NAME };
  } catch (err) {
    // The script's own refusals (a broken manifest, a missing icon) are about the installed files.
    if (err instanceof script.PackageError)
      throw new TeamsPackageError(`cannot build the Teams app package: ${err.message}`, 'files');
    throw err;
  }
}
