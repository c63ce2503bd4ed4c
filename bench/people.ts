/**
 * The bench's synthetic world: people (each an identity with a login in the sandbox PostgreSQL), roles (each a
 * permission of the `db` integration), the approver (with a Slack user id) and an admin, the two flows
 * (auto-approved, and approved in Slack), and the pool of (person, role) pairs every grant is drawn from, so
 * that no two live grants are the same piece of access.
 */

export const DOMAIN = 'bench.example';
export const APPROVER = `approver@${DOMAIN}`;
export const APPROVER_SLACK_ID = 'UBENCHAPPROVER';
export const ADMIN = `admin@${DOMAIN}`;
export const APPROVAL_CHANNEL = 'CBENCHAPPROVALS';
export const TASK_QUEUE = 'grantflow-bench';
export const TARGET_ENV = 'GF_BENCH_TARGET_URL';
export const SLACK_TOKEN_ENV = 'GF_BENCH_SLACK_TOKEN';
export const SLACK_SECRET_ENV = 'GF_BENCH_SLACK_SECRET';
export const FLOW_AUTO = 'bench-auto';
export const FLOW_APPROVED = 'bench-approved';

export interface World {
  people: number;
  roles: number;
}

export const personName = (i: number): string => `p${String(i).padStart(5, '0')}`;
export const emailOf = (i: number): string => `${personName(i)}@${DOMAIN}`;
export const loginOf = (i: number): string => `bench_${personName(i)}`;
export const permissionOf = (r: number): string => `r${r}`;
export const roleOf = (r: number): string => `bench_role_${r}`;

/** One distinct piece of access: a person's login as a member of one role. */
export interface Pair {
  person: number;
  role: number;
}

/**
 * Hands out (person, role) pairs round-robin over the whole pool; a pair comes back only after the grant that
 * last used it was released (revoked), so live grants never share access.
 */
export class PairPool {
  private next = 0;
  private readonly busy = new Set<number>();

  constructor(readonly world: World) {}

  get size(): number {
    return this.world.people * this.world.roles;
  }

  take(): Pair {
    for (let tries = 0; tries < this.size; tries++) {
      const k = this.next;
      this.next = (this.next + 1) % this.size;
      if (this.busy.has(k)) continue;
      this.busy.add(k);
      // Consecutive grants go to different people in the same role, as when many people ask for one role.
      return { person: k % this.world.people, role: Math.floor(k / this.world.people) };
    }
    throw new Error(`all ${this.size} (person, role) pairs are in use`);
  }

  release(p: Pair): void {
    this.busy.delete(p.role * this.world.people + p.person);
  }

  get inUse(): number {
    return this.busy.size;
  }
}

/** The bench's grantflow.yaml. */
export function benchConfigYaml(world: World, slackApiUrl: string): string {
  const permissions = Array.from({ length: world.roles }, (_, r) => permissionOf(r));
  const people = Array.from(
    { length: world.people },
    (_, i) => `  - email: ${emailOf(i)}\n    groups: [people]\n    accounts: { db: ${loginOf(i)} }`,
  );
  const flow = (name: string, extra: string[]) =>
    [
      `  - name: ${name}`,
      `    requesters: { groups: [people] }`,
      `    resources: [{ name: db, permissions: [${permissions.join(', ')}] }]`,
      ...extra,
      `    defaultDuration: 1m`,
      `    maxDuration: 4h`,
      `    maxTotalDuration: 8h`,
      `    requireJustification: false`,
    ].join('\n');
  return [
    `# Written by npm run bench: synthetic people and roles in the bench's own sandbox PostgreSQL.`,
    `taskQueue: ${TASK_QUEUE}`,
    `identities:`,
    ...people,
    `  - email: ${APPROVER}\n    groups: [approvers]\n    slack: { userId: ${APPROVER_SLACK_ID} }`,
    `  - email: ${ADMIN}\n    groups: [admins]`,
    `admins:`,
    `  groups: [admins]`,
    `  alerts: [{ platform: log }]`,
    `integrations:`,
    `  db:`,
    `    type: postgres`,
    `    url: \${${TARGET_ENV}}`,
    `    permissions:`,
    ...permissions.map((p, r) => `      ${p}: { role: ${roleOf(r)} }`),
    `flows:`,
    flow(FLOW_AUTO, [`    autoApprove: true`]),
    flow(FLOW_APPROVED, [
      `    approvers: { users: [${APPROVER}] }`,
      `    requiredApprovals: 1`,
      `    notify: [{ platform: slack, channel: ${APPROVAL_CHANNEL} }]`,
    ]),
    `slack:`,
    `  botToken: \${${SLACK_TOKEN_ENV}}`,
    `  signingSecret: \${${SLACK_SECRET_ENV}}`,
    `  apiUrl: ${slackApiUrl}`,
    '',
  ].join('\n');
}
