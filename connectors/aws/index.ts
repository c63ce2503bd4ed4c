/**
 * The AWS connector: each permission is either membership of an IAM group (the person's account is their IAM user
 * name) or an IAM Identity Center account assignment (their account is their Identity Center user id). Access is
 * shared between grants of the same target. AWS lists no sessions, so `liveSessions` is always 0: what already-issued
 * sessions can still do after a revoke is described in docs/connectors/aws.md.
 */
import { performance } from 'node:perf_hooks';
import { IAMClient } from '@aws-sdk/client-iam';
import { SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Logger } from 'pino';
import { logger as defaultLogger, redactUrl } from '../../core/logger';
import { WrongIntegrationError } from '../errors';
import type {
  AccessCheck,
  AccessTarget,
  Connector,
  ExistingAccess,
  GrantRef,
  GrantRequest,
  GrantResult,
  HealthCheck,
  HealthResult,
  RevokeRequest,
  RevokeResult,
} from '../types';
import type { AwsIntegrationConfig } from './config';
import { InvalidAccountError, UnknownPermissionError, fromAwsError } from './errors';
import * as iam from './iam';
import * as ic from './identity-center';

/** A down endpoint must fail fast: Grantflow's activities retry, a hung call helps no one. */
const CONNECTION_TIMEOUT_MS = 3_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** One retry inside the SDK for a throttled or dropped call; more is the activity's business. */
const MAX_ATTEMPTS = 2;

/** What a permission is in AWS. */
type Kind =
  { kind: 'iamGroup'; ctx: iam.IamContext } | { kind: 'identityCenter'; ctx: ic.IdentityCenterContext };
/** A permission and the person's account in it. */
type Resolved = Kind & { account: string };

/** Creates the connector of one `type: aws` integration. Makes no call until first used. */
export function createAwsConnector(
  name: string,
  config: AwsIntegrationConfig,
  deps: { log?: Logger } = {},
): Connector {
  return new AwsConnector(
    name,
    config,
    (deps.log ?? defaultLogger).child({ integration: name, connector: 'aws' }),
  );
}

class AwsConnector implements Connector {
  readonly type = 'aws';
  readonly sharesAccess = true;
  private clients: { iam: IAMClient; sso: SSOAdminClient } | undefined;

  constructor(
    private readonly name: string,
    private readonly config: AwsIntegrationConfig,
    private readonly log: Logger,
  ) {}

  async grant(request: GrantRequest): Promise<GrantResult> {
    const r = this.resolve(request.target);
    return this.call('grant', r.ctx.permission, async () => {
      let details: GrantResult['details'];
      if (r.kind === 'iamGroup') {
        const { alreadyPresent } = await iam.addToGroup(this.aws(request.requestId).iam, r.ctx, r.account);
        details = { kind: r.kind, group: r.ctx.group, user: r.account, alreadyPresent };
      } else {
        const { alreadyPresent, awsRequestId } = await ic.createAssignment(
          this.aws(request.requestId).sso,
          r.ctx,
          r.account,
        );
        details = { kind: r.kind, ...assignmentDetails(r.ctx, r.account), alreadyPresent };
        if (awsRequestId) details.awsRequestId = awsRequestId;
      }
      this.log.info(
        { requestId: request.requestId, permission: r.ctx.permission, ...details },
        'granted AWS access',
      );
      return { details };
    });
  }

  async revoke(request: RevokeRequest): Promise<RevokeResult> {
    const r = this.resolve(request.target);
    return this.call('revoke', r.ctx.permission, async () => {
      const { alreadyAbsent } =
        r.kind === 'iamGroup'
          ? await iam.removeFromGroup(this.aws(request.requestId).iam, r.ctx, r.account)
          : await ic.deleteAssignment(this.aws(request.requestId).sso, r.ctx, r.account);
      const what = r.kind === 'iamGroup' ? { group: r.ctx.group } : assignmentDetails(r.ctx, r.account);
      this.log.info(
        {
          requestId: request.requestId,
          permission: r.ctx.permission,
          account: r.account,
          ...what,
          alreadyAbsent,
        },
        'revoked AWS access',
      );
      // AWS has no call that ends sessions already issued; see the docs for how long they may live on.
      return { alreadyAbsent, sessionsTerminated: 0 };
    });
  }

  async check(ref: GrantRef): Promise<AccessCheck> {
    const r = this.resolve(ref.target);
    return this.call('check', r.ctx.permission, async () => {
      const exists =
        r.kind === 'iamGroup'
          ? await iam.isMember(this.aws(ref.requestId).iam, r.ctx.group, r.account)
          : (await ic.assignedUsers(this.aws(ref.requestId).sso, r.ctx)).includes(r.account);
      return { exists, liveSessions: 0 };
    });
  }

  async listAccess(): Promise<ExistingAccess[]> {
    const all = await Promise.all(
      Object.keys(this.config.permissions).map((permission) => {
        const r = this.resolvePermission(permission);
        return this.call('listAccess', permission, async () => {
          const accounts =
            r.kind === 'iamGroup'
              ? await iam.groupMembers(this.aws().iam, r.ctx)
              : await ic.assignedUsers(this.aws().sso, r.ctx);
          return accounts.map((account) => ({ account, permission }));
        });
      }),
    );
    return all.flat();
  }

  async checkHealth(): Promise<HealthResult> {
    const started = performance.now();
    const probes = new Map<string, { permission: string; run: () => Promise<string> }>();
    for (const permission of Object.keys(this.config.permissions)) {
      const r = this.resolvePermission(permission);
      if (r.kind === 'iamGroup') {
        probes.set(`iam group ${r.ctx.group}`, {
          permission,
          run: () => iam.checkGroup(this.aws().iam, r.ctx.group),
        });
      } else {
        probes.set(`identity center ${permission}`, {
          permission,
          run: () => ic.checkPermissionSet(this.aws().sso, r.ctx),
        });
      }
    }
    const checks: HealthCheck[] = await Promise.all(
      [...probes].map(async ([name, probe]) => {
        try {
          return { name, ok: true, message: await probe.run() };
        } catch (err) {
          return {
            name,
            ok: false,
            message: fromAwsError(this.name, 'health check', probe.permission, err).message,
          };
        }
      }),
    );
    const failed = checks.filter((c) => !c.ok);
    const latencyMs = Math.round(performance.now() - started);
    if (checks.length === 0) return { ok: true, message: 'no permissions configured', latencyMs, checks };
    if (failed.length === 0) return { ok: true, latencyMs, checks };
    const message = `${failed.length} of ${checks.length} checks failed; first: ${failed[0].message}`;
    return { ok: false, message, latencyMs, checks };
  }

  async close(): Promise<void> {
    const clients = this.clients;
    this.clients = undefined;
    clients?.iam.destroy();
    clients?.sso.destroy();
  }

  private resolve(target: AccessTarget): Resolved {
    if (target.integration !== this.name) throw new WrongIntegrationError(this.name, target.integration);
    const r = this.resolvePermission(target.permission);
    const { account } = target;
    if (r.kind === 'iamGroup' && !iam.IAM_USER_NAME.test(account)) {
      throw new InvalidAccountError(this.name, target.permission, account, 'an IAM user name');
    }
    if (r.kind === 'identityCenter' && !ic.PRINCIPAL_ID.test(account)) {
      throw new InvalidAccountError(
        this.name,
        target.permission,
        account,
        'an Identity Center user id (a GUID from the identity store, not a user name or email)',
      );
    }
    return { ...r, account };
  }

  private resolvePermission(permission: string): Kind {
    const p = Object.hasOwn(this.config.permissions, permission)
      ? this.config.permissions[permission]
      : undefined;
    if (!p) throw new UnknownPermissionError(this.name, permission, Object.keys(this.config.permissions));
    const base = { integration: this.name, permission };
    return 'iamGroup' in p
      ? { kind: 'iamGroup', ctx: { ...base, group: p.iamGroup } }
      : { kind: 'identityCenter', ctx: { ...base, target: p.identityCenter } };
  }

  /** The clients, made on first use (`requestId`: the request that first needs them, for the log line). */
  private aws(requestId?: string): { iam: IAMClient; sso: SSOAdminClient } {
    if (this.clients) return this.clients;
    const { region, endpoint } = this.config;
    this.log.debug({ requestId, region, endpoint: endpoint && redactUrl(endpoint) }, 'creating AWS clients');
    // Credentials: the SDK's default provider chain. Each client gets its own handler (destroy() closes it).
    const options = () => ({
      region,
      endpoint,
      maxAttempts: MAX_ATTEMPTS,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: CONNECTION_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
      }),
    });
    this.clients = { iam: new IAMClient(options()), sso: new SSOAdminClient(options()) };
    return this.clients;
  }

  private async call<T>(action: string, permission: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      throw fromAwsError(this.name, action, permission, err);
    }
  }
}

function assignmentDetails(ctx: ic.IdentityCenterContext, principalId: string) {
  const { accountId, permissionSetArn } = ctx.target;
  return { accountId, permissionSetArn, principalId };
}
