/**
 * The verbs of Grantflow's Adaptive Card actions (Action.Execute, invoke `adaptiveCard/action`) and the ids of
 * card inputs. The card renderers (cards.ts) and the bot (bot.ts) share them from here.
 */
export const VERBS = {
  /** Submit the request form card. */
  request: 'grantflow.request',
  approve: 'grantflow.approve',
  /** Deny, with the reason typed in the card's `denyReason` input. */
  deny: 'grantflow.deny',
  /** Extend by the duration typed in the card's `extendBy` input. */
  extend: 'grantflow.extend',
  revoke: 'grantflow.revoke',
  /** Show the person's requests and grants. */
  list: 'grantflow.list',
} as const;

export const INPUTS = {
  /** Input.ChoiceSet of the request form: one choice per (flow, resource, permission), value from encodeChoice. */
  access: 'access',
  duration: 'duration',
  reason: 'reason',
  denyReason: 'denyReason',
  extendBy: 'extendBy',
} as const;

/** The `data` of an Action.Execute, merged by Teams with the card's input values. */
export interface ActionData {
  requestId?: string;
  [input: string]: unknown;
}
