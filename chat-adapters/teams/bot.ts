/**
 * The Teams bot: a thin translation between Teams activities and the request use cases. A message "request"
 * answers with the request form card, "my requests" with a list; card buttons arrive as Universal Actions
 * (invoke `adaptiveCard/action`) and every invoke is answered at once, so Teams never shows "Unable to reach
 * app": the cards themselves are updated afterwards by the notifier, for every copy, whatever decided.
 */
import {
  TeamsActivityHandler,
  TurnContext,
  type AdaptiveCardInvokeResponse,
  type AdaptiveCardInvokeValue,
} from 'botbuilder';
import type { AppContext, Actor } from '../../core/context';
import { createRequest } from '../../core/create-request';
import { GrantflowError } from '../../core/errors';
import { decideRequest, extendRequest, revokeRequest } from '../../core/request-actions';
import { parseDuration } from '../../policy/duration';
import { checkForm, choicesFor } from '../request-input';
import { ADAPTIVE_CARD_CONTENT_TYPE, cardAttachment, listCard, requestFormCard, textCard } from './cards';
import type { TeamsDirectory } from './directory';
import { VERBS, type ActionData } from './ids';

const MESSAGE = 'application/vnd.microsoft.activity.message';
const LIVE = ['PENDING_APPROVAL', 'APPROVED', 'GRANTING', 'ACTIVE'];

export function unknownTeamsUser(aadObjectId?: string): string {
  return (
    'Grantflow does not know your Teams account' +
    (aadObjectId
      ? ` (${aadObjectId}). Ask a Grantflow admin to add \`teams: { aadObjectId: ${aadObjectId} }\``
      : '. Ask a Grantflow admin to add your Teams id') +
    ' to your identity in grantflow.yaml.'
  );
}

export class GrantflowTeamsBot extends TeamsActivityHandler {
  constructor(
    private readonly ctx: AppContext,
    private readonly directory: TeamsDirectory,
  ) {
    super();
    this.onMessage(async (context, next) => {
      await this.remember(context);
      await this.answerMessage(context);
      await next();
    });
    this.onInstallationUpdateAdd(async (context, next) => {
      await this.remember(context);
      await next();
    });
    this.onMembersAdded(async (context, next) => {
      await this.remember(context);
      await next();
    });
  }

  private remember(context: TurnContext): Promise<void> {
    return this.directory.remember(context, TurnContext.getConversationReference(context.activity));
  }

  private async answerMessage(context: TurnContext): Promise<void> {
    const identity = await this.directory.identityOf(context);
    if (!identity) {
      await context.sendActivity(unknownTeamsUser(context.activity.from.aadObjectId));
      return;
    }
    const text = (TurnContext.removeRecipientMention(context.activity) ?? context.activity.text ?? '')
      .trim()
      .toLowerCase();
    if (text.startsWith('request')) {
      const choices = choicesFor(this.ctx.config(), identity);
      await context.sendActivity({ attachments: [cardAttachment(requestFormCard({ choices }))] });
    } else if ((text.startsWith('my requests') || text === 'list') && !personal(context)) {
      await context.sendActivity(
        'Your requests are yours alone: ask me for **my requests** in a personal chat.',
      );
    } else if (text.startsWith('my requests') || text === 'list') {
      const rows = await this.ctx.store.listRequests({ requester: identity.email, limit: 20 });
      await context.sendActivity({
        attachments: [cardAttachment(listCard(rows.filter((r) => LIVE.includes(r.status))))],
      });
    } else {
      await context.sendActivity(
        'Send **request** to ask for access, or **my requests** to see your requests and grants. Approvers get cards with Approve and Deny.',
      );
    }
  }

  protected override async onAdaptiveCardInvoke(
    context: TurnContext,
    invoke: AdaptiveCardInvokeValue,
  ): Promise<AdaptiveCardInvokeResponse> {
    const identity = await this.directory.identityOf(context);
    if (!identity) return message(unknownTeamsUser(context.activity.from.aadObjectId));
    const actor: Actor = { email: identity.email, channel: 'teams' };
    const data = (invoke.action.data ?? {}) as ActionData;
    const requestId = String(data.requestId ?? '');
    // The invoke's activity id is stable across Teams' redeliveries: the update id that makes them act once.
    const updateId = `teams:${context.activity.id}`;
    try {
      switch (invoke.action.verb) {
        case VERBS.request:
          return await this.submitRequest(actor, identity, data, updateId);
        case VERBS.approve:
          await decideRequest(this.ctx, actor, requestId, 'approve', undefined, { updateId });
          return message('Approved. Every card about this request is being updated.');
        case VERBS.deny: {
          const reason = String(data.denyReason ?? '').trim();
          if (!reason) return message('Say why you deny the request, then press Deny.');
          await decideRequest(this.ctx, actor, requestId, 'deny', reason, { updateId });
          return message('Denied. Every card about this request is being updated.');
        }
        case VERBS.extend: {
          const byMs = parseDuration(String(data.extendBy ?? ''));
          if (byMs === undefined)
            return message(`"${String(data.extendBy ?? '')}" is not a duration (e.g. 30m).`);
          const view = await extendRequest(this.ctx, actor, requestId, byMs, { updateId });
          return message(`Extended until ${view.expiresAt}.`);
        }
        case VERBS.revoke:
          await revokeRequest(this.ctx, actor, requestId, 'revoked from Teams', { updateId });
          return message('Revoking your access now.');
        default:
          return message(`Unknown action ${invoke.action.verb}.`);
      }
    } catch (err) {
      // Refusals were audited by the use case; the clicker sees why, and the card stays as it is.
      if (err instanceof GrantflowError) return message(`Not done: ${err.message}`);
      throw err;
    }
  }

  private async submitRequest(
    actor: Actor,
    identity: NonNullable<Awaited<ReturnType<TeamsDirectory['identityOf']>>>,
    data: ActionData,
    key: string,
  ): Promise<AdaptiveCardInvokeResponse> {
    const values = {
      access: String(data.access ?? ''),
      duration: String(data.duration ?? ''),
      reason: String(data.reason ?? ''),
    };
    const checked = checkForm(this.ctx.config(), actor.email, { choice: values.access, ...values });
    if (!checked.ok) {
      const choices = choicesFor(this.ctx.config(), identity);
      return card(
        requestFormCard({ choices, values, error: { field: checked.field, message: checked.message } }),
      );
    }
    const { request, existing } = await createRequest(this.ctx, actor, {
      ...checked.input,
      idempotencyKey: key,
    });
    return card(
      textCard(
        existing
          ? `You already have this request: ${request.id} (${request.status}).`
          : `Requested ${request.resource} ${request.permission}: ${request.id}. You will hear back here.`,
      ),
    );
  }
}

function personal(context: TurnContext): boolean {
  return context.activity.conversation?.conversationType === 'personal';
}

function message(text: string): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: MESSAGE, value: text as never };
}

function card(content: object): AdaptiveCardInvokeResponse {
  return { statusCode: 200, type: ADAPTIVE_CARD_CONTENT_TYPE, value: content as never };
}
