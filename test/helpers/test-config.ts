/**
 * The config the workflow tests run under: the shape of grantflow.yaml, with durations in seconds.
 */
export function testConfigYaml(o: {
  prefix: string;
  envName: string;
  taskQueue: string;
  settings?: { revokeAlertAfterAttempts?: number; revokeMaxBackoff?: string };
}): string {
  const p = o.prefix;
  const person = (name: string, groups: string[]) =>
    `  - email: ${name}@example.com\n    groups: [${groups.join(', ')}]\n    accounts: { db: ${p}_${name} }`;
  return `
taskQueue: ${o.taskQueue}
settings:
  revokeAlertAfterAttempts: ${o.settings?.revokeAlertAfterAttempts ?? 3}
  revokeMaxBackoff: ${o.settings?.revokeMaxBackoff ?? '1s'}
identities:
${person('alice', ['engineering'])}
${person('bob', ['dba'])}
${person('carol', ['dba'])}
${person('dave', ['dba'])}
${person('erin', ['engineering'])}
  - email: nobody@example.com
    groups: [engineering]
    accounts: { db: ${p}_no_such_login }
admins:
  users: [carol@example.com]
  alerts: [{ platform: log }]
integrations:
  db:
    type: postgres
    url: \${${o.envName}}
    permissions:
      readonly: { role: ${p}_readonly }
      readwrite: { role: ${p}_readwrite }
flows:
  - name: auto-read
    requesters: { groups: [engineering] }
    resources: [{ name: db, permissions: [readonly] }]
    autoApprove: true
    defaultDuration: 3s
    maxDuration: 1m
    maxTotalDuration: 2m
    reminderBefore: 1s
    requireJustification: false
  - name: approved-write
    requesters: { groups: [engineering] }
    resources: [{ name: db, permissions: [readwrite] }]
    approvers: { groups: [dba] }
    requiredApprovals: 1
    defaultDuration: 4s
    maxDuration: 1m
    maxTotalDuration: 90s
    approvalTimeout: 1m
    requireJustification: true
  - name: two-of-three
    requesters: { groups: [engineering] }
    resources: [{ name: db, permissions: [readwrite] }]
    approvers: { users: [bob@example.com, carol@example.com, dave@example.com] }
    requiredApprovals: 2
    defaultDuration: 3s
    maxDuration: 1m
    approvalTimeout: 1m
    requireJustification: true
  - name: quick-expire
    requesters: { groups: [engineering] }
    resources: [{ name: db, permissions: [readonly] }]
    approvers: { groups: [dba] }
    defaultDuration: 3s
    maxDuration: 1m
    approvalTimeout: 2s
    requireJustification: false
`;
}
