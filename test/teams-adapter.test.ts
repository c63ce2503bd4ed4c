/**
 * The Teams adapter against a small Bot Framework adapter that runs real TurnContexts and records what they
 * send: it posts cards where a conversation reference is saved, keeps the conversation and activity ids plus the
 * reference for later updates, updates the same activity, skips (with a warning) people and channels the bot
 * cannot reach yet, and posts alerts as text cards.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import {
  BotAdapter,
  TurnContext,
  type Activity,
  type CloudAdapter,
  type ConversationReference,
  type ResourceResponse,
} from 'botbuilder';
import pino from 'pino';
import { TeamsChatAdapter, type ProactiveBotAdapter } from '../chat-adapters/teams/adapter';
import { ADAPTIVE_CARD_CONTENT_TYPE, requestCard, type AdaptiveCard } from '../chat-adapters/teams/cards';
import { VERBS } from '../chat-adapters/teams/ids';
import { pendingMessage } from './helpers/messages';

// The real CloudAdapter must fit what the Teams adapter asks for.
void (null as unknown as CloudAdapter satisfies ProactiveBotAdapter);

type Logic = (context: TurnContext) => Promise<void>;

/** Runs proactive turns like CloudAdapter does, minus the network: sent and updated activities are recorded. */
class RecordingBotAdapter extends BotAdapter {
  readonly continued: { appId: string; reference: Partial<ConversationReference> }[] = [];
  readonly sent: Partial<Activity>[] = [];
  readonly updated: Partial<Activity>[] = [];
  /** The id Teams answers a send with; undefined answers without one. */
  nextId: string | undefined = 'act-1';

  override async continueConversationAsync(
    appIdOrClaims: unknown,
    reference: Partial<ConversationReference>,
    logicOrAudience: string | Logic,
    maybeLogic?: Logic,
  ): Promise<void> {
    const logic = typeof logicOrAudience === 'function' ? logicOrAudience : maybeLogic;
    if (!logic) throw new Error('no logic');
    this.continued.push({ appId: String(appIdOrClaims), reference });
    const request = TurnContext.applyConversationReference(
      { type: 'event', name: 'ContinueConversation' },
      reference,
      true,
    );
    await this.runMiddleware(new TurnContext(this, request), logic);
  }

  async sendActivities(_context: TurnContext, activities: Partial<Activity>[]): Promise<ResourceResponse[]> {
    this.sent.push(...activities);
    return activities.map(() => ({ id: this.nextId }) as ResourceResponse);
  }

  async updateActivity(_context: TurnContext, activity: Partial<Activity>): Promise<void> {
    this.updated.push(activity);
  }

  async deleteActivity(): Promise<void> {
    throw new Error('not used');
  }

  async continueConversation(): Promise<void> {
    throw new Error('not used');
  }
}

function reference(conversationId: string): Partial<ConversationReference> {
  return {
    channelId: 'msteams',
    serviceUrl: 'https://smba.trafficmanager.net/emea/',
    conversation: { id: conversationId, isGroup: false, conversationType: 'personal', name: '' },
    bot: { id: '28:grantflow-bot', name: 'Grantflow' },
    user: { id: '29:someone', name: 'Someone' },
  };
}

const message = pendingMessage();

const cardOf = (activity: Partial<Activity> | undefined): AdaptiveCard => {
  const [attachment] = activity?.attachments ?? [];
  assert.equal(attachment?.contentType, ADAPTIVE_CARD_CONTENT_TYPE);
  return attachment.content as AdaptiveCard;
};

describe('Teams chat adapter', () => {
  const logLines: string[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString());
        done();
      },
    }),
  );
  const saved = {
    people: new Map([['bob@example.com', reference('a:1on1-bob')]]),
    channels: new Map([['19:approvers@thread.tacv2', reference('19:approvers@thread.tacv2')]]),
  };
  const references = {
    async forPerson(email: string) {
      return saved.people.get(email);
    },
    async forChannel(channelId: string) {
      return saved.channels.get(channelId);
    },
  };
  let bot: RecordingBotAdapter;
  let adapter: TeamsChatAdapter;

  beforeEach(() => {
    logLines.length = 0;
    bot = new RecordingBotAdapter();
    adapter = new TeamsChatAdapter({
      appId: 'app-id-1',
      adapter: bot,
      references,
      log,
      stepUpUrlFor: (id) => `https://grantflow.example.com/requests/${id}`,
    });
  });

  it('posts a card to a person with a saved reference and keeps the conversation and activity ids', async () => {
    const ref = await adapter.post({ kind: 'person', email: 'bob@example.com' }, 'approvers', message);
    assert.deepEqual(ref, {
      requestId: 'req-1',
      platform: 'teams',
      audience: 'approvers',
      conversationId: 'a:1on1-bob',
      messageId: 'act-1',
      extra: { reference: reference('a:1on1-bob') },
    });
    assert.deepEqual(bot.continued, [{ appId: 'app-id-1', reference: reference('a:1on1-bob') }]);
    assert.equal(bot.sent.length, 1);
    assert.equal(bot.sent[0].conversation?.id, 'a:1on1-bob', 'sent into the saved conversation');
    assert.deepEqual(cardOf(bot.sent[0]), requestCard(message, 'approvers'));
    assert.ok(
      cardOf(bot.sent[0]).actions?.some((a) => a.type === 'Action.Execute' && a.verb === VERBS.approve),
    );
  });

  it('posts to a channel target through its saved reference', async () => {
    const target = { platform: 'teams' as const, channel: '19:approvers@thread.tacv2' };
    const ref = await adapter.post({ kind: 'target', target }, 'approvers', message);
    assert.equal(ref?.conversationId, '19:approvers@thread.tacv2');
    assert.equal(bot.sent[0].conversation?.id, '19:approvers@thread.tacv2');
  });

  it('skips, with a warning, people and channels the bot cannot reach yet', async () => {
    const nobody = await adapter.post({ kind: 'person', email: 'carol@example.com' }, 'requester', message);
    assert.equal(nobody, undefined);
    const target = { platform: 'teams' as const, channel: '19:unknown@thread.tacv2' };
    assert.equal(await adapter.post({ kind: 'target', target }, 'approvers', message), undefined);
    assert.equal(
      await adapter.post({ kind: 'target', target: { platform: 'teams' } }, 'approvers', message),
      undefined,
    );
    assert.equal(bot.continued.length, 0, 'nothing was sent');
    const warnings = logLines.map((l) => JSON.parse(l) as { level: number; msg: string; email?: string });
    assert.deepEqual(
      warnings.map((w) => w.level),
      [40, 40, 40],
    );
    assert.match(
      warnings[0].msg,
      /cannot be reached on Teams yet: they must send the Grantflow bot a message/,
    );
    assert.equal(warnings[0].email, 'carol@example.com');
    assert.match(warnings[1].msg, /channel cannot be reached yet: install the Grantflow app/);
    assert.match(warnings[2].msg, /no channel/);
  });

  it('updates the same activity with the card re-rendered, from a reference read back from storage', async () => {
    const posted = await adapter.post({ kind: 'person', email: 'bob@example.com' }, 'approvers', message);
    assert.ok(posted);
    const stored = JSON.parse(JSON.stringify(posted)) as typeof posted;
    const denied: typeof message = {
      ...message,
      status: 'DENIED',
      event: 'denied',
      decisions: [
        {
          approver: 'bob@example.com',
          decision: 'deny',
          comment: 'no',
          at: '2025-03-01T10:00:00Z',
          channel: 'teams',
        },
      ],
    };
    await adapter.update(stored, denied);
    assert.equal(bot.updated.length, 1);
    const [update] = bot.updated;
    assert.deepEqual([update.type, update.id, update.conversation?.id], ['message', 'act-1', 'a:1on1-bob']);
    const card = cardOf(update);
    assert.equal(card.actions, undefined, 'no buttons once denied');
    assert.ok(JSON.stringify(card).includes('Denied by bob@example.com'));
  });

  it('cannot update a message without a saved reference, and says so', async () => {
    await adapter.update(
      {
        requestId: 'req-1',
        platform: 'teams',
        audience: 'approvers',
        conversationId: 'a:1on1-bob',
        messageId: 'act-1',
      },
      message,
    );
    assert.equal(bot.continued.length, 0);
    assert.match(logLines.join(''), /no saved conversation reference/);
  });

  it('links approvers to the portal for step-up flows, and only them', async () => {
    const stepUp = { ...message, stepUp: true };
    await adapter.post({ kind: 'person', email: 'bob@example.com' }, 'approvers', stepUp);
    assert.deepEqual(cardOf(bot.sent[0]).actions, [
      {
        type: 'Action.OpenUrl',
        title: 'Review in the portal',
        url: 'https://grantflow.example.com/requests/req-1',
      },
    ]);
    await adapter.post({ kind: 'person', email: 'bob@example.com' }, 'approvers', message);
    assert.equal(cardOf(bot.sent[1]).actions?.[0].type, 'Action.Execute', 'no step-up: buttons');
  });

  it('returns nothing to keep when Teams gives no activity id', async () => {
    bot.nextId = undefined;
    const ref = await adapter.post({ kind: 'person', email: 'bob@example.com' }, 'approvers', message);
    assert.equal(ref, undefined);
    assert.equal(bot.sent.length, 1, 'the card was still sent');
    assert.match(logLines.join(''), /without an activity id/);
  });

  it('posts an alert as a text card to the target channel', async () => {
    const target = { platform: 'teams' as const, channel: '19:approvers@thread.tacv2' };
    await adapter.alert(target, 'revoke keeps failing: *db down*', 'req-9');
    assert.equal(bot.sent[0].conversation?.id, '19:approvers@thread.tacv2');
    const card = cardOf(bot.sent[0]);
    assert.deepEqual(card.body, [
      {
        type: 'TextBlock',
        text: '🚨 **Grantflow alert** (request req-9): revoke keeps failing: \\*db down\\*',
        wrap: true,
      },
    ]);
    assert.equal(card.actions, undefined);
  });
});
