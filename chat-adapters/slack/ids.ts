/**
 * The ids Grantflow's Slack surfaces use: action ids of buttons and selects, callback ids of modals, and block
 * ids of inputs. The renderers (blocks.ts) and the listeners share them from here.
 */
export const ACTIONS = {
  approve: 'grantflow_approve',
  deny: 'grantflow_deny',
  extend: 'grantflow_extend',
  revoke: 'grantflow_revoke',
  /** The external select of the request modal: one option per (flow, resource, permission). */
  access: 'grantflow_access',
  /** A link button to the portal, for flows that require a step-up. */
  stepUp: 'grantflow_step_up',
  /** The direct-message request: duration buttons, skip the justification, give up. */
  dmDuration: 'grantflow_dm_duration',
  dmSkipReason: 'grantflow_dm_skip_reason',
  dmCancel: 'grantflow_dm_cancel',
} as const;

export const CALLBACKS = {
  request: 'grantflow_request',
  denyReason: 'grantflow_deny_reason',
  extend: 'grantflow_extend_by',
} as const;

export const BLOCKS = {
  access: 'access',
  duration: 'duration',
  reason: 'reason',
  denyReason: 'deny_reason',
  extendBy: 'extend_by',
} as const;

export { encodeChoice, decodeChoice, type AccessChoice } from '../choices';
