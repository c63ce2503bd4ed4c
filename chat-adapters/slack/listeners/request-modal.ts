/**
 * The request modal: the searchable access picker (options, only what the person's flows allow) and the
 * submission, which answers bad input inline (`response_action: errors`) and otherwise starts the request.
 * The view id is the idempotency key, so Slack's retries never open two requests.
 */
import type { App } from '@slack/bolt';
import { createRequest } from '../../../core/create-request';
import { canRequest } from '../../../policy/evaluate';
import { parseDuration } from '../../../policy/duration';
import { checkRequest } from '../../../policy/snapshot';
import type { Identity } from '../../../policy/types';
import type { GrantflowConfig } from '../../../config/types';
import { accessOptions } from '../blocks';
import { actorFor, refusalText, tellPrivately, unknownUserText, type SlackDeps } from '../context';
import { ACTIONS, BLOCKS, CALLBACKS, decodeChoice, type AccessChoice } from '../ids';

/** Every (flow, resource, permission) the person may request. */
export function choicesFor(config: GrantflowConfig, identity: Identity) {
  const choices: { choice: AccessChoice; label: string; description?: string }[] = [];
  for (const flow of config.flows) {
    if (!canRequest(identity, flow)) continue;
    for (const resource of flow.resources)
      for (const permission of resource.permissions)
        choices.push({
          choice: { flow: flow.name, resource: resource.name, permission },
          label: `${resource.name} — ${permission}`,
          description: flow.description ?? flow.name,
        });
  }
  return choices;
}

const FIELD_BLOCK: Record<string, string> = {
  flow: BLOCKS.access,
  resource: BLOCKS.access,
  permission: BLOCKS.access,
  requester: BLOCKS.access,
  durationMs: BLOCKS.duration,
  reason: BLOCKS.reason,
};

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
    const choice = decodeChoice(values[BLOCKS.access]?.[ACTIONS.access]?.selected_option?.value ?? '');
    const durationText = values[BLOCKS.duration]?.value?.value?.trim() ?? '';
    const reason = values[BLOCKS.reason]?.value?.value?.trim() ?? '';
    const actor = await actorFor(deps, body.user.id);
    if (!actor)
      return ack({ response_action: 'errors', errors: { [BLOCKS.access]: unknownUserText(body.user.id) } });
    if (!choice)
      return ack({
        response_action: 'errors',
        errors: { [BLOCKS.access]: 'Choose what you need access to' },
      });
    const durationMs = durationText ? parseDuration(durationText) : undefined;
    if (durationText && durationMs === undefined)
      return ack({
        response_action: 'errors',
        errors: { [BLOCKS.duration]: `"${durationText}" is not a duration (use e.g. 30m, 1h, 4h)` },
      });
    const input = { ...choice, durationMs, reason };
    const check = checkRequest(deps.ctx.config(), { requester: actor.email, ...input });
    if (!check.ok)
      return ack({
        response_action: 'errors',
        errors: { [FIELD_BLOCK[check.field] ?? BLOCKS.access]: check.message },
      });
    await ack();
    try {
      await createRequest(deps.ctx, actor, { ...input, idempotencyKey: `slack-view:${view.id}` });
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
