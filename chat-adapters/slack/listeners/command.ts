/**
 * `/grantflow`: opens the request modal (within the 3-second trigger window); `/grantflow list` shows my
 * requests and grants; `/grantflow help` shows usage.
 */
import type { App } from '@slack/bolt';
import { helpText, listText, requestModal } from '../views';
import { actorFor, unknownUserText, type SlackDeps } from '../context';
import { summaryOf } from '../summaries';

export function registerCommand(app: App, deps: SlackDeps): void {
  app.command('/grantflow', async ({ ack, command, client }) => {
    const sub = command.text.trim().toLowerCase();
    const actor = await actorFor(deps, command.user_id);
    if (!actor) return ack({ response_type: 'ephemeral', text: unknownUserText(command.user_id) });
    if (sub === 'help') return ack({ response_type: 'ephemeral', text: helpText() });
    if (sub === 'list') {
      const rows = await deps.ctx.store.listRequests({ requester: actor.email, limit: 20 });
      const live = rows.filter((r) =>
        ['PENDING_APPROVAL', 'APPROVED', 'GRANTING', 'ACTIVE'].includes(r.status),
      );
      return ack({ response_type: 'ephemeral', ...listText(live.map(summaryOf)) });
    }
    if (sub !== '' && sub !== 'request') {
      return ack({ response_type: 'ephemeral', text: `Unknown command "${sub}".\n${helpText()}` });
    }
    // Ack first: the trigger id stays valid for 3 seconds, and views.open must use it within them.
    await ack();
    await client.views.open({ trigger_id: command.trigger_id, view: requestModal({}) });
  });
}
