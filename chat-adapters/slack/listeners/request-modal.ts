/**
 * The request modal: the searchable access picker (options, only what the person's flows allow) and the
 * submission, which answers bad input inline (`response_action: errors`) and otherwise starts the request.
 * The view id is the idempotency key, so Slack's retries never open two requests.
 */
import type { App } from '@slack/bolt';
import { createRequest } from '../../../core/create-request';
import { checkForm, choicesFor } from '../../request-input';
import { accessOptions } from '../blocks';
import { actorFor, refusalText, tellPrivately, unknownUserText, type SlackDeps } from '../context';
import { ACTIONS, BLOCKS, CALLBACKS } from '../ids';

type StateValues = Record<
  string,
  Record<string, { value?: string | null; selected_option?: { value: string } | null }>
>;

export function registerRequestModal(app: App, deps: SlackDeps): void {
  app.options(ACTIONS.access, async ({ ack, body }) => {
    const identity = await deps.directory.identityFor(body.user.id);
    const choices = identity ? choicesFor(deps.ctx.config(), identity) : [];
    await ack(accessOptions(choices, String((body as { value?: string }).value ?? '')));
  });

  app.view(CALLBACKS.request, async ({ ack, body, view, client }) => {
    const values = view.state.values as StateValues;
    const actor = await actorFor(deps, body.user.id);
    if (!actor)
      return ack({ response_action: 'errors', errors: { [BLOCKS.access]: unknownUserText(body.user.id) } });
    const checked = checkForm(deps.ctx.config(), actor.email, {
      choice: values[BLOCKS.access]?.[ACTIONS.access]?.selected_option?.value ?? '',
      duration: values[BLOCKS.duration]?.value?.value ?? '',
      reason: values[BLOCKS.reason]?.value?.value ?? '',
    });
    if (!checked.ok)
      return ack({ response_action: 'errors', errors: { [BLOCKS[checked.field]]: checked.message } });
    await ack();
    try {
      await createRequest(deps.ctx, actor, { ...checked.input, idempotencyKey: `slack-view:${view.id}` });
    } catch (err) {
      deps.ctx.log.error({ err: String(err), user: body.user.id }, 'Slack request could not be created');
      await tellPrivately(
        client,
        body.user.id,
        `Your request could not be created: ${refusalText(err) ?? 'internal error'}`,
      );
    }
  });
}
