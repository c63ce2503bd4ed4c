/**
 * What every Slack listener needs: the request use cases' context, the directory of people, and a way to
 * answer one person privately.
 */
import type { WebClient } from '@slack/web-api';
import type { AppContext, Actor } from '../../core/context';
import { GrantflowError } from '../../core/errors';
import type { SlackDirectory } from './directory';

export interface SlackDeps {
  ctx: AppContext;
  directory: SlackDirectory;
}

/** The acting identity for a Slack user, or undefined (the caller tells them privately). */
export async function actorFor(deps: SlackDeps, slackUserId: string): Promise<Actor | undefined> {
  const identity = await deps.directory.identityFor(slackUserId);
  return identity ? { email: identity.email, channel: 'slack' } : undefined;
}

export function unknownUserText(slackUserId: string): string {
  return (
    `Grantflow does not know your Slack account (${slackUserId}). ` +
    'Ask a Grantflow admin to add `slack: { userId: ' +
    slackUserId +
    ' }` to your identity in grantflow.yaml.'
  );
}

/** Tells one person something only they see: ephemeral in the channel, else a direct message. */
export async function tellPrivately(
  client: WebClient,
  user: string,
  text: string,
  channel?: string,
): Promise<void> {
  if (channel) {
    try {
      await client.chat.postEphemeral({ channel, user, text });
      return;
    } catch {
      // Not in that channel (e.g. App Home): fall back to a DM.
    }
  }
  await client.chat.postMessage({ channel: user, text });
}

/** The plain-words message of a refusal, or undefined for errors that are not the user's to see. */
export function refusalText(err: unknown): string | undefined {
  return err instanceof GrantflowError ? err.message : undefined;
}
