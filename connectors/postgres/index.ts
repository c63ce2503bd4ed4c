/**
 * The PostgreSQL connector: `membership` mode (a role granted to the person's own database role) or
 * `temporary-user` mode (a login role per grant). Both end the sessions that could outlive the access.
 */
import type { Logger } from 'pino';
import { logger as defaultLogger } from '../../core/logger';
import type { Connector } from '../types';
import type { PostgresIntegrationConfig } from './config';
import { PgDatabase } from './db';
import { MembershipConnector } from './membership';
import { TemporaryUserConnector } from './temporary-user';

/** Creates the connector of one `type: postgres` integration. Connects on first use, not here. */
export function createPostgresConnector(
  name: string,
  config: PostgresIntegrationConfig,
  deps: { log?: Logger } = {},
): Connector {
  const log = (deps.log ?? defaultLogger).child({
    integration: name,
    connector: 'postgres',
    mode: config.mode,
  });
  const pg = new PgDatabase(name, config, log);
  return config.mode === 'temporary-user' ? new TemporaryUserConnector(pg) : new MembershipConnector(pg);
}
