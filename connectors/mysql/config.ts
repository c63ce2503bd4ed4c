/**
 * Config of a `type: mysql` integration (MySQL 8 or MariaDB 10.5+). Two modes: `membership` grants a configured
 * role to the person's existing account; `temporary-user` creates a user per grant with privileges from a template.
 * Templates and names are checked here, so a bad config fails at load rather than at the first request.
 */
import { z } from 'zod';
import { MAX_HOST, MAX_ROLE, nameProblem, parseTemplate } from './names';

/** A role, host or database name: refused when it cannot exist in the server's tables at all. */
const sqlName = (what: string, max: number) =>
  z.string().superRefine((value, ctx) => {
    const problem = nameProblem(value, what, max);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const permissionSchema = z
  .object({
    /** membership: the role granted to the person's account. */
    role: sqlName('role', MAX_ROLE).optional(),
    /** temporary-user: privileges granted to the temporary user, e.g. `SELECT, INSERT`. */
    privileges: z.string().min(1).optional(),
    /** temporary-user: where the privileges apply, `database.*` or `database.table`. */
    on: z.string().min(1).optional(),
  })
  .strict();

export const mysqlIntegrationSchema = z
  .object({
    type: z.literal('mysql'),
    mode: z.enum(['membership', 'temporary-user']).default('membership'),
    /** Grantflow's own account, `mysql://user:password@host:3306/`; a secret, so given as `${ENV}`. */
    url: z
      .string()
      .regex(
        /^(mysql|mariadb):\/\/[^/]/,
        'must be a URL like mysql://user:password@host:3306/, given by an environment reference',
      ),
    /** Each permission a flow may request: `{ role }` (membership) or `{ privileges, on }` (temporary-user). */
    permissions: z.record(z.string().min(1), permissionSchema),
    /** membership: the host of an account given without `@host`. @default '%' */
    defaultHost: sqlName('defaultHost', MAX_HOST).default('%'),
    /** membership: make the granted role the account's default role, so new connections have it. @default true */
    defaultRole: z.boolean().default(true),
    /** membership: end the account's connections on revoke (a live connection keeps its active role). @default true */
    terminateSessions: z.boolean().default(true),
    /** temporary-user: start of every temporary user's name; lowercase, ends with `_`, at most 8. @default 'gf_' */
    userPrefix: z
      .string()
      .regex(
        /^[a-z][a-z0-9]{0,6}_$/,
        'must be lowercase letters and digits ending with "_", at most 8 characters',
      )
      .default('gf_'),
    /** temporary-user: the host part of temporary users' accounts. @default '%' */
    userHost: sqlName('userHost', MAX_HOST).default('%'),
    /** temporary-user: `host[:port]` that people connect to, for the connection hint; default: the url's. */
    connectHost: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const [name, permission] of Object.entries(config.permissions)) {
      const path = ['permissions', name];
      if (config.mode === 'membership') {
        if (!permission.role || permission.privileges || permission.on) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: 'in mode membership a permission is { role: <role name> }',
          });
        }
        continue;
      }
      if (permission.role || !permission.privileges || !permission.on) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: "in mode temporary-user a permission is { privileges: 'SELECT, ...', on: 'database.*' }",
        });
        continue;
      }
      try {
        const template = parseTemplate(permission.privileges, permission.on);
        for (const part of [template.database, template.table ?? '*']) {
          const problem = nameProblem(part, 'a name in on', 64);
          if (problem) throw new Error(problem);
        }
      } catch (err) {
        ctx.addIssue({ code: 'custom', path, message: (err as Error).message });
      }
    }
  });

export type MysqlIntegrationConfig = z.infer<typeof mysqlIntegrationSchema>;
