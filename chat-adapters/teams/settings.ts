/**
 * Teams (Bot Framework) settings, in botbuilder's own naming: MicrosoftAppId, MicrosoftAppPassword,
 * MicrosoftAppType, MicrosoftAppTenantId, and ToBotFromChannelOpenIdMetadataUrl / ToBotFromChannelTokenIssuer
 * (where incoming tokens are checked; tests point them at a local endpoint). The environment wins over the
 * config file's `teams:` section.
 */
import type { GrantflowConfig } from '../../config/types';

export interface TeamsSettings {
  appId?: string;
  appPassword?: string;
  appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
  tenantId?: string;
  openIdMetadataUrl?: string;
  tokenIssuer?: string;
  matchUsersByEmail: boolean;
}

export function teamsSettings(config: GrantflowConfig, env: NodeJS.ProcessEnv = process.env): TeamsSettings {
  const file = config.teams;
  return {
    appId: env.MicrosoftAppId || file?.appId,
    appPassword: env.MicrosoftAppPassword || file?.appPassword,
    appType: (env.MicrosoftAppType as TeamsSettings['appType'] | undefined) || file?.appType || 'MultiTenant',
    tenantId: env.MicrosoftAppTenantId || file?.tenantId,
    openIdMetadataUrl: env.ToBotFromChannelOpenIdMetadataUrl || undefined,
    tokenIssuer: env.ToBotFromChannelTokenIssuer || undefined,
    matchUsersByEmail: env.TEAMS_MATCH_USERS_BY_EMAIL
      ? env.TEAMS_MATCH_USERS_BY_EMAIL === 'true'
      : (file?.matchUsersByEmail ?? false),
  };
}

/** The one line logged when Teams is off. */
export const TEAMS_OFF_MESSAGE =
  'Teams is off: set MicrosoftAppId and MicrosoftAppPassword (see docs/teams.md); /api/messages answers 401';
