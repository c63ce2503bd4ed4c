/**
 * A request typed into a chat form (Slack modal, Teams card), checked before anything is created, so that
 * every mistake comes back on the field it belongs to. Shared by the chat surfaces; the flow rules themselves
 * are policy/'s.
 */
import type { GrantflowConfig } from '../config/types';
import type { CreateRequestInput } from '../core/create-request';
import { parseDuration } from '../policy/duration';
import { canRequest } from '../policy/evaluate';
import { checkRequest } from '../policy/snapshot';
import type { Identity } from '../policy/types';
import { decodeChoice, type AccessChoice } from './choices';

export type FormField = 'access' | 'duration' | 'reason';

export type CheckedForm =
  { ok: true; input: CreateRequestInput } | { ok: false; field: FormField; message: string };

const FIELD_OF: Record<string, FormField> = {
  flow: 'access',
  resource: 'access',
  permission: 'access',
  requester: 'access',
  durationMs: 'duration',
  reason: 'reason',
};

export function checkForm(
  config: GrantflowConfig,
  requester: string,
  form: { choice: string; duration: string; reason: string },
): CheckedForm {
  const choice = decodeChoice(form.choice);
  if (!choice) return { ok: false, field: 'access', message: 'Choose what you need access to' };
  const durationText = form.duration.trim();
  const durationMs = durationText ? parseDuration(durationText) : undefined;
  if (durationText && durationMs === undefined)
    return {
      ok: false,
      field: 'duration',
      message: `"${durationText}" is not a duration (use e.g. 30m, 1h, 4h)`,
    };
  const input = { ...choice, durationMs, reason: form.reason.trim() };
  const check = checkRequest(config, { requester, ...input });
  if (!check.ok) return { ok: false, field: FIELD_OF[check.field] ?? 'access', message: check.message };
  return { ok: true, input };
}

/** Every (flow, resource, permission) a person may request, with a label for pickers. */
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
