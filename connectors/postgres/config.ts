import { z } from 'zod';

/** A role name as PostgreSQL accepts it (quoted on use; this only keeps out empty and over-long names). */
const roleName = z.string().min(1).max(63, 'is longer than PostgreSQL allows (63 bytes)');

export const postgresIntegrationSchema = z
  .object({
    type: z.literal('postgres'),
    /**
     * `membership`: grant a configured role to the person's existing database role.
     * `temporary-user`: create a login role per grant (member of the configured role), drop it at the end.
     */
    mode: z.enum(['membership', 'temporary-user']).default('membership'),
    /** Connection URL of Grantflow's own account; a secret, so given by reference (`${ENV}` or `${file:PATH}`). */
    url: z.string().min(1),
    /** Each permission a flow may request, and the database role that carries it. */
    permissions: z.record(z.string().min(1), z.object({ role: roleName }).strict()),
    /** Terminate the account's open sessions on revoke, so that access is really gone. @default true */
    terminateSessions: z.boolean().default(true),
    /** temporary-user: the start of every user name Grantflow makes (how it finds its own users). @default gf_ */
    userPrefix: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,15}$/, 'must be 1–16 lowercase letters, digits or _, starting with a letter')
      .default('gf_'),
    /** temporary-user: `host:port` people connect to, when it differs from the one in `url`. */
    connectHost: z.string().min(1).optional(),
  })
  .strict();

export type PostgresIntegrationConfig = z.infer<typeof postgresIntegrationSchema>;
