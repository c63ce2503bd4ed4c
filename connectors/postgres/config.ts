import { z } from 'zod';

/** A role name as PostgreSQL accepts it (quoted on use; this only keeps out empty and over-long names). */
const roleName = z.string().min(1).max(63);

export const postgresIntegrationSchema = z
  .object({
    type: z.literal('postgres'),
    /**
     * `membership`: grant a configured role to the person's existing database role.
     * (`temporary-user` arrives with the connectors issue.)
     */
    mode: z.literal('membership').default('membership'),
    /** Connection URL of Grantflow's own account; a secret, so given by reference (`${ENV}` or `${file:PATH}`). */
    url: z.string().min(1),
    /** Each permission a flow may request, and the database role that carries it. */
    permissions: z.record(z.string().min(1), z.object({ role: roleName }).strict()),
    /** Terminate the account's open sessions on revoke, so that access is really gone. @default true */
    terminateSessions: z.boolean().default(true),
  })
  .strict();

export type PostgresIntegrationConfig = z.infer<typeof postgresIntegrationSchema>;
