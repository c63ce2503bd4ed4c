/**
 * The AWS connector against moto (the AWS API emulator): IAM group membership and Identity Center account
 * assignments granted, checked, listed and revoked through the real SDK, with the test reading AWS's state through
 * its own clients; config validation; error mapping; health, also against a closed port. moto always answers an
 * assignment request SUCCEEDED at once, so the waiting on IN_PROGRESS and FAILED runs against a stubbed client.
 */
import assert from 'node:assert/strict';
import { freePort } from '../devstack/ports';
import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  CreateGroupCommand,
  CreateUserCommand,
  IAMClient,
  ListGroupsForUserCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  SSOAdminClient,
  ThrottlingException,
} from '@aws-sdk/client-sso-admin';
import pino from 'pino';
import { createAwsConnector } from '../connectors/aws';
import { type AwsIntegrationConfig, awsIntegrationSchema } from '../connectors/aws/config';
import {
  AccountNotFoundError,
  AssignmentError,
  GroupNotFoundError,
  InvalidAccountError,
  UnknownPermissionError,
  fromAwsError,
} from '../connectors/aws/errors';
import { createAssignment, deleteAssignment, waitFor } from '../connectors/aws/identity-center';
import { ConnectorError } from '../connectors/errors';
import type { Connector } from '../connectors/types';
import { getTestMoto } from './setup/moto';

const sfx = randomBytes(3).toString('hex');
const INTEGRATION = 'aws-main';
const READERS = `gf-readers-${sfx}`;
const OPS = `gf-ops-${sfx}`;
const ALICE = `alice-${sfx}`;
const BOB = `bob.${sfx}@example.com`; // IAM user names may look like emails
const ACCOUNT_ID = '111122223333';
const CAROL = randomUUID(); // Identity Center user ids
const DAVE = randomUUID();
// moto takes any credentials; these are distinctive so the log check below can look for them.
const ACCESS_KEY_ID = `AKIAGFTEST${sfx.toUpperCase()}`;
const SECRET_ACCESS_KEY = `gf-moto-secret-${sfx}`;

const target = (account: string, permission: string, integration = INTEGRATION) => ({
  integration,
  account,
  permission,
});
const grantReq = (account: string, permission: string, integration = INTEGRATION) => ({
  target: target(account, permission, integration),
  requestId: `req-${permission}-${account}`,
  expiresAt: new Date(Date.now() + 3_600_000),
});
const ref = (account: string, permission: string, integration = INTEGRATION) => ({
  target: target(account, permission, integration),
  requestId: `req-${permission}-${account}`,
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('AWS connector (moto)', () => {
  const savedEnv = { ...process.env };
  const logLines: string[] = [];
  const log = pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  let endpoint: string;
  let iam: IAMClient;
  let sso: SSOAdminClient;
  let instanceArn: string;
  let permissionSetArn: string;
  let config: AwsIntegrationConfig;
  let connector: Connector;
  const others: Connector[] = [];

  const groupsOf = async (user: string) =>
    ((await iam.send(new ListGroupsForUserCommand({ UserName: user }))).Groups ?? []).map((g) => g.GroupName);
  const assignments = async () =>
    (
      await sso.send(
        new ListAccountAssignmentsCommand({
          InstanceArn: instanceArn,
          AccountId: ACCOUNT_ID,
          PermissionSetArn: permissionSetArn,
        }),
      )
    ).AccountAssignments ?? [];

  before(async () => {
    endpoint = (await getTestMoto()).endpoint;
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    delete process.env.AWS_PROFILE;
    iam = new IAMClient({ region: 'us-east-1', endpoint });
    sso = new SSOAdminClient({ region: 'us-east-1', endpoint });
    for (const user of [ALICE, BOB]) await iam.send(new CreateUserCommand({ UserName: user }));
    for (const group of [READERS, OPS]) await iam.send(new CreateGroupCommand({ GroupName: group }));
    // moto has one Identity Center instance per account and region (there is no CreateInstance); it lists it.
    instanceArn = (await sso.send(new ListInstancesCommand({}))).Instances?.[0]?.InstanceArn ?? '';
    const ps = await sso.send(
      new CreatePermissionSetCommand({
        InstanceArn: instanceArn,
        Name: `gf-console-${sfx}`,
        SessionDuration: 'PT1H',
      }),
    );
    permissionSetArn = ps.PermissionSet?.PermissionSetArn ?? '';
    config = awsIntegrationSchema.parse({
      type: 'aws',
      endpoint,
      permissions: {
        read: { iamGroup: READERS },
        ops: { iamGroup: OPS },
        console: { identityCenter: { instanceArn, permissionSetArn, accountId: ACCOUNT_ID } },
      },
    });
    connector = createAwsConnector(INTEGRATION, config, { log });
  });

  after(async () => {
    await connector?.close();
    await Promise.all(others.map((c) => c.close()));
    iam?.destroy();
    sso?.destroy();
    for (const key of Object.keys(process.env)) if (!(key in savedEnv)) delete process.env[key];
    Object.assign(process.env, savedEnv);
  });

  describe('IAM group membership', () => {
    it('grants: the user joins the group, and check sees it', async () => {
      assert.deepEqual(await connector.check!(ref(ALICE, 'read')), { exists: false, liveSessions: 0 });
      const result = await connector.grant(grantReq(ALICE, 'read'));
      assert.deepEqual(result.details, {
        kind: 'iamGroup',
        group: READERS,
        user: ALICE,
        alreadyPresent: false,
      });
      assert.equal(result.credentials, undefined);
      assert.deepEqual(await groupsOf(ALICE), [READERS]);
      assert.deepEqual(await connector.check!(ref(ALICE, 'read')), { exists: true, liveSessions: 0 });
      assert.deepEqual(await connector.check!(ref(ALICE, 'ops')), { exists: false, liveSessions: 0 });
    });

    it('grant is idempotent', async () => {
      const again = await connector.grant(grantReq(ALICE, 'read'));
      assert.equal(again.details.alreadyPresent, true);
      assert.deepEqual(await groupsOf(ALICE), [READERS]);
    });

    it('revokes: the user leaves the group; a second revoke reports it already absent', async () => {
      assert.deepEqual(await connector.revoke(ref(ALICE, 'read')), {
        alreadyAbsent: false,
        sessionsTerminated: 0,
      });
      assert.deepEqual(await groupsOf(ALICE), []);
      assert.deepEqual(await connector.check!(ref(ALICE, 'read')), { exists: false, liveSessions: 0 });
      assert.deepEqual(await connector.revoke(ref(ALICE, 'read')), {
        alreadyAbsent: true,
        sessionsTerminated: 0,
      });
    });

    it('refuses a user that does not exist; revoking or checking it succeeds as absent', async () => {
      const err = await rejection(connector.grant(grantReq(`nobody-${sfx}`, 'read')));
      assert.ok(err instanceof AccountNotFoundError, String(err));
      assert.equal(err.retryable, false);
      assert.match(err.message, new RegExp(`"nobody-${sfx}".*"${INTEGRATION}".*NoSuchEntity`));
      assert.deepEqual(await connector.revoke(ref(`nobody-${sfx}`, 'read')), {
        alreadyAbsent: true,
        sessionsTerminated: 0,
      });
      assert.deepEqual(await connector.check!(ref(`nobody-${sfx}`, 'read')), {
        exists: false,
        liveSessions: 0,
      });
    });

    it('refuses an account that cannot be an IAM user name before calling AWS', async () => {
      const err = await rejection(connector.grant(grantReq('alice smith', 'read')));
      assert.ok(err instanceof InvalidAccountError, String(err));
      assert.equal(err.retryable, false);
      assert.match(err.message, /"alice smith".*"read".*"aws-main".*IAM user name/);
    });

    it('names a configured group that does not exist, non-retryably, in grant, revoke, list and health', async () => {
      const ghost = `gf-ghost-${sfx}`;
      const broken = createAwsConnector(
        'aws-broken',
        { ...config, permissions: { legacy: { iamGroup: ghost } } },
        { log },
      );
      others.push(broken);
      for (const call of [
        () => broken.grant(grantReq(ALICE, 'legacy', 'aws-broken')),
        () => broken.revoke(ref(ALICE, 'legacy', 'aws-broken')),
        () => broken.listAccess(),
      ]) {
        const err = await rejection(call());
        assert.ok(err instanceof GroupNotFoundError, String(err));
        assert.equal(err.retryable, false);
        assert.match(err.message, new RegExp(`"${ghost}".*"legacy".*"aws-broken".*NoSuchEntity`));
      }
      const health = await broken.checkHealth();
      assert.equal(health.ok, false);
      assert.equal(health.checks?.[0]?.name, `iam group ${ghost}`);
      assert.match(health.message ?? '', /NoSuchEntity/);
    });
  });

  describe('Identity Center account assignments', () => {
    it('grants: creates the assignment for the user, and check sees it', async () => {
      assert.deepEqual(await connector.check!(ref(CAROL, 'console')), { exists: false, liveSessions: 0 });
      const result = await connector.grant(grantReq(CAROL, 'console'));
      assert.equal(result.details.kind, 'identityCenter');
      assert.equal(result.details.alreadyPresent, false);
      assert.equal(result.details.principalId, CAROL);
      assert.equal(result.details.accountId, ACCOUNT_ID);
      assert.match(String(result.details.awsRequestId), /^[0-9a-f-]{36}$/);
      const listed = await assignments();
      assert.deepEqual(
        listed.map((a) => [a.PrincipalType, a.PrincipalId, a.AccountId]),
        [['USER', CAROL, ACCOUNT_ID]],
      );
      assert.deepEqual(await connector.check!(ref(CAROL, 'console')), { exists: true, liveSessions: 0 });
      assert.deepEqual(await connector.check!(ref(DAVE, 'console')), { exists: false, liveSessions: 0 });
    });

    it('grant is idempotent (moto would store a duplicate; the connector lists first)', async () => {
      const again = await connector.grant(grantReq(CAROL, 'console'));
      assert.equal(again.details.alreadyPresent, true);
      assert.equal((await assignments()).length, 1);
    });

    it('revokes: deletes the assignment; a second revoke reports it already absent', async () => {
      assert.deepEqual(await connector.revoke(ref(CAROL, 'console')), {
        alreadyAbsent: false,
        sessionsTerminated: 0,
      });
      assert.deepEqual(await assignments(), []);
      assert.deepEqual(await connector.check!(ref(CAROL, 'console')), { exists: false, liveSessions: 0 });
      assert.deepEqual(await connector.revoke(ref(CAROL, 'console')), {
        alreadyAbsent: true,
        sessionsTerminated: 0,
      });
    });

    it('refuses an account that is not an Identity Center user id (e.g. an email)', async () => {
      for (const call of [
        () => connector.grant(grantReq('carol@example.com', 'console')),
        () => connector.revoke(ref('carol@example.com', 'console')),
      ]) {
        const err = await rejection(call());
        assert.ok(err instanceof InvalidAccountError, String(err));
        assert.equal(err.retryable, false);
        assert.match(err.message, /Identity Center user id/);
      }
    });

    it('waits for IN_PROGRESS requests, and reports FAILED ones (stubbed client: moto never answers these)', async () => {
      const poll = { intervalMs: 5, limitMs: 2_000 };
      // Never sends: every call is answered by the stubbed send below.
      const stub = new SSOAdminClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9' });
      let describes = 0;
      stub.send = (async (command: { constructor: { name: string } }) => {
        const name = command.constructor.name;
        if (name === 'ListAccountAssignmentsCommand') {
          return { AccountAssignments: [] };
        }
        if (name === 'CreateAccountAssignmentCommand') {
          return { AccountAssignmentCreationStatus: { Status: 'IN_PROGRESS', RequestId: 'r-1' } };
        }
        if (name === 'DescribeAccountAssignmentCreationStatusCommand') {
          describes++;
          return {
            AccountAssignmentCreationStatus:
              describes < 3
                ? { Status: 'IN_PROGRESS', RequestId: 'r-1' }
                : {
                    Status: 'FAILED',
                    RequestId: 'r-1',
                    FailureReason: 'Access denied by IAM (iam:GetSAMLProvider)',
                  },
          };
        }
        throw new Error(`unexpected ${name}`);
      }) as unknown as SSOAdminClient['send'];
      const ctx = {
        integration: INTEGRATION,
        permission: 'console',
        target: { instanceArn, permissionSetArn, accountId: ACCOUNT_ID },
      };
      const err = await rejection(createAssignment(stub, ctx, CAROL, poll));
      assert.ok(err instanceof AssignmentError, String(err));
      assert.equal(err.retryable, false);
      assert.match(err.message, /assignment failed: Access denied by IAM.*"console".*"aws-main"/);
      assert.equal(describes, 3);

      // The waiting on its own: done when SUCCEEDED, and bounded when it never finishes.
      let n = 0;
      const succeeded = await waitFor(
        { Status: 'IN_PROGRESS', RequestId: 'r-2' },
        async () => ({
          Status: ++n < 2 ? 'IN_PROGRESS' : 'SUCCEEDED',
          RequestId: 'r-2',
        }),
        poll,
      );
      assert.deepEqual([succeeded.Status, n], ['SUCCEEDED', 2]);
      const started = Date.now();
      const stuck = await waitFor(
        { Status: 'IN_PROGRESS', RequestId: 'r-3' },
        async () => ({ Status: 'IN_PROGRESS', RequestId: 'r-3' }),
        { intervalMs: 5, limitMs: 50 },
      );
      assert.equal(stuck.Status, 'IN_PROGRESS');
      assert.ok(Date.now() - started < 1_000);

      // A revoke whose deletion never finishes is retryable: the access is still there.
      stub.send = (async (command: { constructor: { name: string } }) => {
        const name = command.constructor.name;
        if (name === 'ListAccountAssignmentsCommand') {
          return { AccountAssignments: [{ PrincipalType: 'USER', PrincipalId: CAROL }] };
        }
        return { AccountAssignmentDeletionStatus: { Status: 'IN_PROGRESS', RequestId: 'r-4' } };
      }) as unknown as SSOAdminClient['send'];
      const slow = await rejection(deleteAssignment(stub, ctx, CAROL, { intervalMs: 5, limitMs: 30 }));
      assert.ok(slow instanceof AssignmentError && slow.retryable, String(slow));
      assert.match(slow.message, /still in progress/);
    });
  });

  describe('across permissions', () => {
    it('lists the members of each configured permission (users only, not group assignments)', async () => {
      await connector.grant(grantReq(ALICE, 'read'));
      await connector.grant(grantReq(BOB, 'ops'));
      await connector.grant(grantReq(DAVE, 'console'));
      const groupId = randomUUID();
      await sso.send(
        new CreateAccountAssignmentCommand({
          InstanceArn: instanceArn,
          TargetId: ACCOUNT_ID,
          TargetType: 'AWS_ACCOUNT',
          PermissionSetArn: permissionSetArn,
          PrincipalType: 'GROUP',
          PrincipalId: groupId,
        }),
      );
      const sort = (xs: { account: string; permission: string }[]) =>
        [...xs].sort((a, b) => `${a.permission}/${a.account}`.localeCompare(`${b.permission}/${b.account}`));
      assert.deepEqual(sort(await connector.listAccess()), [
        { account: DAVE, permission: 'console' },
        { account: BOB, permission: 'ops' },
        { account: ALICE, permission: 'read' },
      ]);
      assert.deepEqual(await connector.check!(ref(groupId, 'console')), { exists: false, liveSessions: 0 });
      await connector.revoke(ref(ALICE, 'read'));
      await connector.revoke(ref(BOB, 'ops'));
      await connector.revoke(ref(DAVE, 'console'));
      assert.deepEqual(await connector.listAccess(), []);
    });

    it('refuses an unknown permission with a non-retryable error naming integration and permission', async () => {
      for (const call of [
        () => connector.grant(grantReq(ALICE, 'admin')),
        () => connector.revoke(ref(ALICE, 'admin')),
        () => connector.check!(ref(ALICE, 'admin')),
      ]) {
        const err = await rejection(call());
        assert.ok(err instanceof UnknownPermissionError, String(err));
        assert.equal(err.retryable, false);
        assert.match(err.message, /"aws-main".*"admin".*read, ops, console/);
      }
    });

    it('reports health per check, and fails fast against a closed port', async () => {
      const health = await connector.checkHealth();
      assert.equal(health.ok, true, health.message);
      assert.deepEqual(
        health.checks?.map((c) => [c.name, c.ok]),
        [
          [`iam group ${READERS}`, true],
          [`iam group ${OPS}`, true],
          ['identity center console', true],
        ],
      );
      assert.match(health.checks?.[2]?.message ?? '', /gf-console-.*PT1H.*111122223333/);

      const down = createAwsConnector(
        'aws-down',
        { ...config, endpoint: `http://127.0.0.1:${await freePort()}` },
        { log },
      );
      others.push(down);
      const started = Date.now();
      const result = await down.checkHealth();
      assert.equal(result.ok, false);
      assert.ok(Date.now() - started < 5_000, `took ${Date.now() - started} ms`);
      assert.equal(result.checks?.length, 3);
      assert.ok(
        result.checks?.every((c) => !c.ok && /ECONNREFUSED/.test(c.message ?? '')),
        JSON.stringify(result),
      );
      const err = await rejection(down.grant(grantReq(ALICE, 'read', 'aws-down')));
      assert.ok(err instanceof ConnectorError && err.retryable, String(err));
      assert.match(err.message, /"read".*"aws-down".*ECONNREFUSED/);
    });

    it('maps AWS errors: throttling, 5xx and no answer retryable; access denied, validation, not found not', () => {
      const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });
      const cases: [unknown, string, boolean][] = [
        [new ThrottlingException({ message: 'Rate exceeded', ...meta(400) }), 'ThrottlingException', true],
        [
          Object.assign(new Error('Rate exceeded'), { name: 'Throttling', Code: 'Throttling', ...meta(400) }),
          'Throttling',
          true,
        ],
        [
          Object.assign(new Error('We encountered an internal error'), {
            name: 'ServiceFailure',
            ...meta(500),
          }),
          'ServiceFailure',
          true,
        ],
        [Object.assign(new Error('Service Unavailable'), { name: 'Unknown', ...meta(503) }), 'Unknown', true],
        [
          Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }),
          'ECONNREFUSED',
          true,
        ],
        [
          Object.assign(
            new Error(
              'User: arn:aws:iam::123456789012:user/gf is not authorized to perform: iam:AddUserToGroup',
            ),
            { name: 'AccessDenied', Code: 'AccessDenied', ...meta(403) },
          ),
          'AccessDenied',
          false,
        ],
        [
          Object.assign(new Error('1 validation error detected'), {
            name: 'ValidationException',
            ...meta(400),
          }),
          'ValidationException',
          false,
        ],
        [
          new NoSuchEntityException({ message: 'Group x not found', ...meta(404) }),
          'NoSuchEntityException',
          false,
        ],
        [
          Object.assign(new Error('Could not load credentials from any providers'), {
            name: 'CredentialsProviderError',
          }),
          'CredentialsProviderError',
          false,
        ],
      ];
      for (const [cause, code, retryable] of cases) {
        const err = fromAwsError('aws-main', 'grant', 'read', cause);
        assert.equal(err.retryable, retryable, `${code}: ${err.message}`);
        assert.match(
          err.message,
          new RegExp(`^AWS grant for permission "read" in integration "aws-main" failed: ${code}`),
        );
        assert.equal(err.cause, cause);
      }
    });

    it('never logs or reports the credentials', () => {
      assert.ok(logLines.some((line) => line.includes('granted AWS access')));
      assert.ok(logLines.some((line) => line.includes('revoked AWS access')));
      for (const secret of [SECRET_ACCESS_KEY, ACCESS_KEY_ID]) {
        assert.ok(
          logLines.every((line) => !line.includes(secret)),
          `${secret} in the log`,
        );
      }
    });
  });
});

describe('AWS integration config', () => {
  const instanceArn = 'arn:aws:sso:::instance/ssoins-1234567890abcdef';
  const permissionSetArn = 'arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-abcdef1234567890';
  const parse = (permissions: unknown, extra: Record<string, unknown> = {}) =>
    awsIntegrationSchema.safeParse({ type: 'aws', permissions, ...extra });
  const messages = (result: ReturnType<typeof parse>) =>
    result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

  it('accepts both kinds of permission, with us-east-1 by default', () => {
    const result = parse({
      read: { iamGroup: 'readers' },
      admin: { identityCenter: { instanceArn, permissionSetArn, accountId: '123456789012' } },
    });
    assert.ok(result.success, messages(result).join('\n'));
    assert.equal(result.data.region, 'us-east-1');
    assert.equal(result.data.endpoint, undefined);
    assert.ok(parse({}, { region: 'eu-central-1', endpoint: 'https://iam.vpce.example.com' }).success);
  });

  it('rejects malformed ARNs, account ids and group names with a message naming the field', () => {
    const ic = (over: Record<string, string>) => ({
      p: { identityCenter: { instanceArn, permissionSetArn, accountId: '123456789012', ...over } },
    });
    const expectations: [unknown, RegExp][] = [
      [
        ic({ instanceArn: 'ssoins-1234567890abcdef' }),
        /p\.identityCenter\.instanceArn: is not an Identity Center instance ARN/,
      ],
      [
        ic({ permissionSetArn: instanceArn }),
        /p\.identityCenter\.permissionSetArn: is not a permission set ARN/,
      ],
      [ic({ accountId: '1234' }), /p\.identityCenter\.accountId: is not an AWS account id \(12 digits/],
      [
        { p: { iamGroup: 'arn:aws:iam::123456789012:group/readers' } },
        /p\.iamGroup: is not an IAM group name/,
      ],
      [
        {
          p: {
            iamGroup: 'readers',
            identityCenter: { instanceArn, permissionSetArn, accountId: '123456789012' },
          },
        },
        /p: must have exactly one of iamGroup/,
      ],
      [{ p: {} }, /p: must have exactly one of iamGroup/],
      [{ p: { role: 'x' } }, /p: Unrecognized key: "role"/],
    ];
    for (const [permissions, pattern] of expectations) {
      const found = messages(parse(permissions));
      assert.ok(
        found.some((m) => pattern.test(m)),
        `${JSON.stringify(permissions)} → ${found.join(' | ')}`,
      );
    }
  });

  it('takes no credentials and validates region and endpoint', () => {
    assert.match(messages(parse({}, { accessKeyId: 'AKIA…' })).join(), /accessKeyId/);
    assert.match(messages(parse({}, { region: 'US East' })).join(), /region: is not an AWS region name/);
    assert.match(
      messages(parse({}, { endpoint: 'localhost:5000' })).join(),
      /endpoint: is not an http\(s\) URL/,
    );
  });
});
