/**
 * Approve and Deny in chat. Every click is re-checked on the server by the workflow (only a listed approver,
 * never the requester, only while pending); a refusal is audited and explained privately. The action's
 * `action_ts` plus the clicker (or the deny dialog's view id) is the update id, so a retried delivery or a
 * second replica decides once.
 */
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Actor } from '../../../core/context';
import { decideRequest, extendRequest, revokeRequest } from '../../../core/request-actions';
import { parseDuration } from '../../../policy/duration';
import { denyReasonModal, extendModal } from '../views';
import { actorFor, refusalText, tellPrivately, unknownUserText, type SlackDeps } from '../context';
import { ACTIONS, BLOCKS, CALLBACKS } from '../ids';

type Values = Record<string, Record<string, { value?: string | null }>>;

export function registerDecisions(app: App, deps: SlackDeps): void {
  onClick(app, deps, ACTIONS.approve, 'Not approved', (actor, requestId, updateId) =>
    decideRequest(deps.ctx, actor, requestId, 'approve', undefined, { updateId }),
  );

  app.action<BlockAction<ButtonAction>>(ACTIONS.deny, async ({ ack, body, action, client }) => {
    await ack();
    await client.views.open({ trigger_id: body.trigger_id, view: denyReasonModal(action.value ?? '') });
  });

  app.view(CALLBACKS.denyReason, async ({ ack, body, view }) => {
    const reason = (view.state.values as Values)[BLOCKS.denyReason]?.value?.value?.trim() ?? '';
    const actor = await actorFor(deps, body.user.id);
    if (!actor)
      return ack({
        response_action: 'errors',
        errors: { [BLOCKS.denyReason]: unknownUserText(body.user.id) },
      });
    if (!reason) return ack({ response_action: 'errors', errors: { [BLOCKS.denyReason]: 'Say why' } });
    try {
      await decideRequest(deps.ctx, actor, view.private_metadata, 'deny', reason, {
        updateId: `slack:${view.id}`,
      });
      await ack();
    } catch (err) {
      const text = refusalText(err);
      if (!text) throw err;
      await ack({ response_action: 'errors', errors: { [BLOCKS.denyReason]: text } });
    }
  });

  onClick(app, deps, ACTIONS.revoke, 'Not revoked', (actor, requestId, updateId) =>
    revokeRequest(deps.ctx, actor, requestId, 'revoked from Slack', { updateId }),
  );

  app.action<BlockAction<ButtonAction>>(ACTIONS.extend, async ({ ack, body, action, client }) => {
    await ack();
    await client.views.open({ trigger_id: body.trigger_id, view: extendModal(action.value ?? '') });
  });

  app.view(CALLBACKS.extend, async ({ ack, body, view }) => {
    const text = (view.state.values as Values)[BLOCKS.extendBy]?.value?.value?.trim() ?? '';
    const byMs = parseDuration(text);
    if (byMs === undefined)
      return ack({
        response_action: 'errors',
        errors: { [BLOCKS.extendBy]: `"${text}" is not a duration (e.g. 30m)` },
      });
    const actor = await actorFor(deps, body.user.id);
    if (!actor)
      return ack({ response_action: 'errors', errors: { [BLOCKS.extendBy]: unknownUserText(body.user.id) } });
    try {
      await extendRequest(deps.ctx, actor, view.private_metadata, byMs, { updateId: `slack:${view.id}` });
      await ack();
    } catch (err) {
      const refusal = refusalText(err);
      if (!refusal) throw err;
      await ack({ response_action: 'errors', errors: { [BLOCKS.extendBy]: refusal } });
    }
  });
}

/**
 * A button that acts at once: ack, map the clicker, act with the click's `action_ts` plus the clicker as the
 * update id, and explain a refusal privately.
 */
function onClick(
  app: App,
  deps: SlackDeps,
  actionId: string,
  refusedPrefix: string,
  run: (actor: Actor, requestId: string, updateId: string) => Promise<unknown>,
): void {
  app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, client }) => {
    await ack();
    const channel = body.channel?.id;
    const actor = await actorFor(deps, body.user.id);
    if (!actor) return tellPrivately(client, body.user.id, unknownUserText(body.user.id), channel);
    try {
      await run(actor, action.value ?? '', `slack:${action.action_ts}:${body.user.id}`);
    } catch (err) {
      const text = refusalText(err);
      if (!text) throw err;
      await tellPrivately(client, body.user.id, `${refusedPrefix}: ${text}`, channel);
    }
  });
}
