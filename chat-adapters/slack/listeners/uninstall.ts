/**
 * When the workspace removes the app (`app_uninstalled`) or revokes its bot token (`tokens_revoked`), Slack says
 * so; the connected workspace is then forgotten at once and the change audited, so Grantflow falls back to
 * SLACK_BOT_TOKEN (or reports Slack as off) instead of failing every message with a dead token. Bolt runs these
 * two events without authorizing them: the token is gone already.
 */
import type { App } from '@slack/bolt';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AppContext } from '../../../core/context';
import type { KnexInstallationStore } from '../installation-store';

export function registerUninstall(
  app: App,
  deps: { ctx: AppContext; installations?: KnexInstallationStore; log: Logger },
): void {
  const forget = async (event: string, teamId?: string, enterpriseId?: string) => {
    const { installations, ctx, log } = deps;
    if (!installations) return;
    const key = await installations.forTeamKey(teamId, enterpriseId);
    if (!key || !(await installations.remove(key))) return;
    await ctx.store.appendAudit({
      eventKey: `integration:slack_uninstalled:${randomUUID()}`,
      type: 'integration.slack_uninstalled',
      actor: 'slack',
      channel: 'slack',
      details: { teamId: key, event },
    });
    log.warn({ teamId: key, event }, 'Slack says the app was removed: the connected workspace is forgotten');
  };
  app.event('app_uninstalled', async ({ context }) => {
    await forget('app_uninstalled', context.teamId, context.enterpriseId);
  });
  app.event('tokens_revoked', async ({ event, context }) => {
    // Only the bot token matters to Grantflow (it asks for no user token).
    if ((event.tokens.bot ?? []).length > 0)
      await forget('tokens_revoked', context.teamId, context.enterpriseId);
  });
}
