/**
 * Requesting by direct message: "request" starts it, then the bot asks for the access (a searchable select),
 * a duration (buttons) and a justification (the next message). The conversation's state lives in the
 * database, so a restart or another replica carries it on; the message's ts is the request's idempotency
 * key, so a redelivered event creates nothing twice.
 */
import type { App, BlockAction, ButtonAction, ExternalSelectAction } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { createRequest } from '../../../core/create-request';
import { findFlow } from '../../../policy/snapshot';
import { askAccess, askDuration, askReason } from '../dm-blocks';
import { actorFor, refusalText, unknownUserText, type SlackDeps } from '../context';
import { ACTIONS, decodeChoice, type AccessChoice } from '../ids';
import { helpText } from '../views';

interface DmState {
  step: 'access' | 'duration' | 'reason';
  choice?: AccessChoice;
  durationMs?: number;
  lastEventTs?: string;
}

const PLATFORM = 'slack';

export function registerDirectMessages(app: App, deps: SlackDeps): void {
  const { store } = deps.ctx;
  const load = async (user: string) => (await store.getConversation(PLATFORM, user)) as DmState | undefined;
  const save = (user: string, state: DmState) => store.saveConversation(PLATFORM, user, { ...state });

  app.message(async ({ message, client }) => {
    // Only people's own messages in their DM with the app: never edits, joins, or the bot's own posts.
    if (message.channel_type !== 'im' || message.subtype !== undefined || !('user' in message)) return;
    if ('bot_id' in message && message.bot_id) return;
    const user = message.user as string;
    const text = ('text' in message ? String(message.text ?? '') : '').trim();
    const state = await load(user);
    if (state?.lastEventTs === message.ts) return; // a redelivery of a message already handled
    if (!(await actorFor(deps, user))) return say(client, user, unknownUserText(user));
    if (/^(request|access)\b/i.test(text)) {
      await save(user, { step: 'access', lastEventTs: message.ts });
      return say(client, user, askAccess());
    }
    if (/^cancel\b/i.test(text)) {
      await store.deleteConversation(PLATFORM, user);
      return say(client, user, 'Cancelled. Type `request` to start again.');
    }
    if (state?.step === 'reason' && state.choice && text) {
      await save(user, { ...state, lastEventTs: message.ts });
      return finish(deps, client, user, state, text, `slack-dm:${message.ts}`);
    }
    return say(client, user, helpText());
  });

  app.action<BlockAction<ExternalSelectAction>>(ACTIONS.access, async ({ ack, body, action, client }) => {
    await ack();
    if (body.container?.type === 'view') return; // a selection inside the modal: the submission handles it
    const user = body.user.id;
    const choice = decodeChoice(action.selected_option?.value ?? '');
    const flow = choice ? findFlow(deps.ctx.config(), choice.flow) : undefined;
    if (!choice || !flow) return;
    await save(user, { step: 'duration', choice });
    await say(
      client,
      user,
      askDuration(`${choice.resource} ${choice.permission}`, flow.defaultDurationMs, flow.maxDurationMs),
    );
  });

  app.action<BlockAction<ButtonAction>>(
    new RegExp(`^${ACTIONS.dmDuration}_`),
    async ({ ack, body, action, client }) => {
      await ack();
      const user = body.user.id;
      const state = await load(user);
      if (!state?.choice)
        return say(client, user, 'That request was already finished. Type `request` to start again.');
      const flow = findFlow(deps.ctx.config(), state.choice.flow);
      await save(user, { ...state, step: 'reason', durationMs: Number(action.value) });
      await say(client, user, askReason(flow?.requireJustification ?? true));
    },
  );

  app.action<BlockAction<ButtonAction>>(ACTIONS.dmSkipReason, async ({ ack, body, action, client }) => {
    await ack();
    const state = await load(body.user.id);
    if (state?.step === 'reason' && state.choice)
      await finish(deps, client, body.user.id, state, '', `slack-dm:${action.action_ts}`);
  });

  app.action(ACTIONS.dmCancel, async ({ ack, body, client }) => {
    await ack();
    await store.deleteConversation(PLATFORM, body.user.id);
    await say(client, body.user.id, 'Cancelled. Type `request` to start again.');
  });
}

async function finish(
  deps: SlackDeps,
  client: WebClient,
  user: string,
  state: DmState,
  reason: string,
  key: string,
) {
  const actor = await actorFor(deps, user);
  if (!actor || !state.choice) return;
  try {
    const { request, existing } = await createRequest(deps.ctx, actor, {
      ...state.choice,
      durationMs: state.durationMs,
      reason,
      idempotencyKey: key,
    });
    await deps.ctx.store.deleteConversation(PLATFORM, user);
    if (existing)
      await say(client, user, `You already have this request: ${request.id} (${request.status}).`);
  } catch (err) {
    const text = refusalText(err);
    if (!text) throw err;
    await say(client, user, `That request was refused: ${text}. Type \`request\` to start again.`);
    await deps.ctx.store.deleteConversation(PLATFORM, user);
  }
}

async function say(client: WebClient, user: string, message: string | { text: string; blocks: unknown[] }) {
  const body = typeof message === 'string' ? { text: message } : message;
  await client.chat.postMessage({ channel: user, ...(body as { text: string }) });
}
