/**
 * Bolt's InstallationStore over Grantflow's database (knex: SQLite or PostgreSQL). A workspace connected with
 * "Connect Slack" is one row of `slack_installations`: the whole installation (bot token included) sealed with
 * GRANTFLOW_ENCRYPTION_KEYS (AES-256-GCM, bound to the row's key), beside the facts the Integrations page
 * shows in the clear. A row sealed with an older key is sealed again with the current key when it is read, so
 * a rotation completes by itself (docs/integrations.md).
 */
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';
import type { Knex } from 'knex';
import type { Keyring } from '../../core/keyring';
import type { SlackInstallationView } from '../../server/integrations/types';
import { SlackInstallationError } from './errors';

const TABLE = 'slack_installations';

/** What Grantflow asks InstallProvider to carry through the OAuth round trip (in the signed state). */
export interface InstallMetadata {
  /** The admin who clicked Connect. */
  installedBy: string;
}

type Row = Record<string, unknown>;

export class KnexInstallationStore implements InstallationStore {
  /**
   * @param keyring the keys tokens are sealed with; a function, so that a missing GRANTFLOW_ENCRYPTION_KEYS is
   * reported when a token is stored or read, not when the server starts.
   */
  constructor(
    private readonly knex: Knex,
    private readonly keyring: () => Keyring | undefined,
  ) {}

  async storeInstallation(installation: Installation): Promise<void> {
    const key = installKey(installation);
    if (!installation.bot?.token)
      throw new SlackInstallationError('Slack answered without a bot token: check the app has a bot user');
    const ring = this.requireKeyring();
    const meta = parseMetadata(installation.metadata);
    await this.knex(TABLE)
      .insert({
        install_key: key,
        team_id: installation.team?.id ?? null,
        team_name: installation.team?.name ?? null,
        enterprise_id: installation.enterprise?.id ?? null,
        enterprise_name: installation.enterprise?.name ?? null,
        is_enterprise_install: installation.isEnterpriseInstall === true,
        app_id: installation.appId ?? null,
        bot_user_id: installation.bot.userId,
        bot_id: installation.bot.id,
        scopes: installation.bot.scopes.join(','),
        installed_by: meta.installedBy,
        installed_at: new Date().toISOString(),
        sealed: ring.sealText(JSON.stringify(installation), aadFor(key)),
        key_id: ring.currentKeyId,
      })
      .onConflict('install_key')
      .merge();
  }

  async fetchInstallation(query: InstallationQuery<boolean>): Promise<Installation> {
    const row = await this.rowFor(query);
    if (!row) throw new SlackInstallationError(`no Slack installation for ${describeQuery(query)}`);
    return this.open(row);
  }

  async deleteInstallation(query: InstallationQuery<boolean>): Promise<void> {
    await this.knex(TABLE).where('install_key', queryKey(query)).delete();
  }

  /** Every connected workspace, newest first: what the page shows (never a token). */
  async list(): Promise<SlackInstallationView[]> {
    const rows = (await this.knex(TABLE).orderBy('installed_at', 'desc')) as Row[];
    return rows.map(view);
  }

  /** The installation whose token is used when no team is named (the newest), with its view. */
  async current(): Promise<{ installation: Installation; view: SlackInstallationView } | undefined> {
    const row = (await this.knex(TABLE).orderBy('installed_at', 'desc').first()) as Row | undefined;
    return row ? { installation: await this.open(row), view: view(row) } : undefined;
  }

  /** The installation for a team (or its enterprise's org-wide install), if connected. */
  async forTeam(teamId: string, enterpriseId?: string): Promise<Installation | undefined> {
    const row = await this.rowFor({ teamId, enterpriseId, isEnterpriseInstall: false });
    return row ? this.open(row) : undefined;
  }

  /** The install key of the row serving a team (its own, or its enterprise's org-wide install), if any. */
  async forTeamKey(teamId: string | undefined, enterpriseId?: string): Promise<string | undefined> {
    if (!teamId && !enterpriseId) return undefined;
    const row = await this.rowFor({
      teamId,
      enterpriseId,
      isEnterpriseInstall: !teamId,
    });
    return row ? String(row.install_key) : undefined;
  }

  /** Forgets a workspace by its install key (team or enterprise id); true when there was one. */
  async remove(installKeyOrTeam: string): Promise<boolean> {
    return (await this.knex(TABLE).where('install_key', installKeyOrTeam).delete()) > 0;
  }

  private async rowFor(query: InstallationQuery<boolean>): Promise<Row | undefined> {
    const exact = (await this.knex(TABLE).where('install_key', queryKey(query)).first()) as Row | undefined;
    if (exact || !query.enterpriseId) return exact;
    // A workspace of an enterprise with an org-wide install is served by the enterprise's installation.
    return (await this.knex(TABLE)
      .where({ install_key: query.enterpriseId, is_enterprise_install: true })
      .first()) as Row | undefined;
  }

  private async open(row: Row): Promise<Installation> {
    const key = String(row.install_key);
    const ring = this.requireKeyring();
    const installation = JSON.parse(ring.openText(String(row.sealed), aadFor(key))) as Installation;
    if (row.key_id !== ring.currentKeyId) {
      // Sealed with an older key: seal it again with the current one, unless another process just did.
      await this.knex(TABLE)
        .where({ install_key: key, sealed: row.sealed })
        .update({
          sealed: ring.sealText(JSON.stringify(installation), aadFor(key)),
          key_id: ring.currentKeyId,
        });
    }
    return installation;
  }

  private requireKeyring(): Keyring {
    const ring = this.keyring();
    if (!ring)
      throw new SlackInstallationError(
        'GRANTFLOW_ENCRYPTION_KEYS is not set: Slack tokens connected from the portal are stored encrypted with it (docs/encryption.md)',
      );
    return ring;
  }
}

function installKey(installation: Installation): string {
  const key = installation.isEnterpriseInstall ? installation.enterprise?.id : installation.team?.id;
  if (!key) throw new SlackInstallationError('Slack answered without a team or enterprise id');
  return key;
}

function queryKey(query: InstallationQuery<boolean>): string {
  const key = query.isEnterpriseInstall ? query.enterpriseId : query.teamId;
  if (!key)
    throw new SlackInstallationError(`cannot look up a Slack installation for ${describeQuery(query)}`);
  return key;
}

function describeQuery(query: InstallationQuery<boolean>): string {
  return query.isEnterpriseInstall
    ? `enterprise ${query.enterpriseId ?? '(none)'}`
    : `team ${query.teamId ?? '(none)'}`;
}

/** The sealed installation is bound to its row: moved to another row, it no longer decrypts. */
function aadFor(key: string): string {
  return `slack-installation:${key}`;
}

function parseMetadata(metadata: string | undefined): InstallMetadata {
  try {
    const parsed = JSON.parse(metadata ?? '') as Partial<InstallMetadata>;
    if (typeof parsed.installedBy === 'string' && parsed.installedBy)
      return { installedBy: parsed.installedBy };
  } catch {
    // fall through: an install not started from Grantflow's own /slack/install
  }
  throw new SlackInstallationError('the installation does not say which Grantflow admin started it');
}

function view(row: Row): SlackInstallationView {
  const text = (v: unknown) => (v === null || v === undefined || v === '' ? undefined : String(v));
  return {
    teamId: String(row.team_id ?? row.install_key),
    teamName: text(row.team_name),
    enterpriseId: text(row.enterprise_id),
    enterpriseName: text(row.enterprise_name),
    botUserId: text(row.bot_user_id),
    botId: text(row.bot_id),
    appId: text(row.app_id),
    scopes: String(row.scopes ?? '')
      .split(',')
      .filter(Boolean),
    installedBy: String(row.installed_by),
    installedAt: String(row.installed_at),
    keyId: String(row.key_id),
  };
}
