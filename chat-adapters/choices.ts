/**
 * One requestable piece of access as the value of a picker option, shared by every chat surface
 * (Slack allows 150 characters in an option value; Teams choice values are as short).
 */
/** One requestable piece of access, as the value of a select option (Slack allows 150 characters). */
export interface AccessChoice {
  flow: string;
  resource: string;
  permission: string;
}

export function encodeChoice(choice: AccessChoice): string {
  return JSON.stringify([choice.flow, choice.resource, choice.permission]);
}

export function decodeChoice(value: string): AccessChoice | undefined {
  try {
    const [flow, resource, permission] = JSON.parse(value) as unknown[];
    if ([flow, resource, permission].every((v) => typeof v === 'string'))
      return { flow, resource, permission } as AccessChoice;
  } catch {
    // not one of ours
  }
  return undefined;
}
