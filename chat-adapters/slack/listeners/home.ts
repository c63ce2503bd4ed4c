/**
 * App Home: my pending requests, my active grants, and requests waiting for my approval.
 */
import type { App } from '@slack/bolt';
import { portalLink } from '../../../core/links';
import { findFlow, snapshotFlow } from '../../../policy/snapshot';
import { actorFor, type SlackDeps } from '../context';
import { summaryOf } from '../summaries';
import { homeView } from '../views';

export function registerHome(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    const actor = await actorFor(deps, event.user);
    if (!actor) return;
    const { store } = deps.ctx;
    const config = deps.ctx.config();
    const mine = await store.listRequests({ requester: actor.email, limit: 50 });
    const pending = await store.listRequests({ status: 'PENDING_APPROVAL', limit: 200 });
    const toApprove = pending.filter((row) => {
      const flow = findFlow(config, row.flow);
      return (
        flow && row.requester !== actor.email && snapshotFlow(config, flow).approvers.includes(actor.email)
      );
    });
    await client.views.publish({
      user_id: event.user,
      view: homeView({
        mine: mine.map(summaryOf),
        // Step-up flows are decided in the portal: their rows link there instead of offering buttons.
        toApprove: toApprove.map((row) => ({
          ...summaryOf(row),
          stepUpUrl: findFlow(config, row.flow)?.stepUp ? portalLink(config, row.id) : undefined,
        })),
      }),
    });
  });
}
