/**
 * The shape of a `type: aws` integration in grantflow.yaml. Credentials are never part of it: the AWS SDK takes them
 * from its standard provider chain (environment, shared config/SSO profile, web identity, ECS/EC2 role).
 */
import { z } from 'zod';

/** Partitions that IAM Identity Center runs in, as its API documents them. */
const PARTITION = '(?:aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b)';
const INSTANCE_ID = '(?:sso)?ins-[a-zA-Z0-9-.]{16}';

export const INSTANCE_ARN = new RegExp(`^arn:${PARTITION}:sso:::instance/${INSTANCE_ID}$`);
/**
 * AWS writes permission set ARNs as `arn:aws:sso:::permissionSet/ssoins-…/ps-…`. The `instance/ssoins-…/ps-…` form is
 * accepted too because moto (the AWS emulator used for local runs and tests) makes them that way; an instance ARN
 * pasted by mistake still fails, as it has no `/ps-…` part.
 */
export const PERMISSION_SET_ARN = new RegExp(
  `^arn:${PARTITION}:sso:::(?:permissionSet|instance)/${INSTANCE_ID}/ps-[a-zA-Z0-9-./]{16}$`,
);

/** IAM's own rule for group (and user) names: up to 128 of letters, digits and `+=,.@_-`. */
const iamGroupName = z
  .string()
  .regex(
    /^[\w+=,.@-]{1,128}$/,
    'is not an IAM group name (up to 128 letters, digits and + = , . @ _ -; the name, not the ARN)',
  );

const identityCenterTarget = z
  .object({
    instanceArn: z
      .string()
      .regex(INSTANCE_ARN, 'is not an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-…)'),
    permissionSetArn: z
      .string()
      .regex(PERMISSION_SET_ARN, 'is not a permission set ARN (arn:aws:sso:::permissionSet/ssoins-…/ps-…)'),
    accountId: z.string().regex(/^\d{12}$/, 'is not an AWS account id (12 digits, quoted in YAML)'),
  })
  .strict();

export type IdentityCenterTarget = z.infer<typeof identityCenterTarget>;
export type AwsPermission = { iamGroup: string } | { identityCenter: IdentityCenterTarget };

const ONE_KIND =
  'must have exactly one of iamGroup: <group name> or ' +
  'identityCenter: { instanceArn: <ARN>, permissionSetArn: <ARN>, accountId: <12 digits> }';

/** One requestable permission: membership of an IAM group, or an Identity Center account assignment. */
const awsPermission = z
  .object({ iamGroup: iamGroupName.optional(), identityCenter: identityCenterTarget.optional() })
  .strict()
  .superRefine((p, ctx) => {
    if ((p.iamGroup === undefined) === (p.identityCenter === undefined))
      ctx.addIssue({ code: 'custom', message: ONE_KIND });
  })
  .transform((p) => p as AwsPermission);

export const awsIntegrationSchema = z
  .object({
    type: z.literal('aws'),
    /** Region of the API calls (IAM is global; Identity Center calls go to the instance's home region). */
    region: z
      .string()
      .regex(/^[a-z]{2}(?:-[a-z]+)+-\d$/, 'is not an AWS region name (e.g. us-east-1)')
      .default('us-east-1'),
    /** Another API endpoint for both services: moto, LocalStack or a VPC endpoint. @default AWS's own */
    endpoint: z.url({ protocol: /^https?$/, error: 'is not an http(s) URL' }).optional(),
    /** Each permission a flow may request, and what in AWS carries it. */
    permissions: z.record(z.string().min(1), awsPermission),
  })
  .strict();

export type AwsIntegrationConfig = z.infer<typeof awsIntegrationSchema>;
