/**
 * The connector registry: one connector per configured integration, created on first use so that an integration
 * nobody requests never opens a connection.
 */
import type { Logger } from 'pino';
import type { IntegrationConfig } from '../config/types';
import { UnknownIntegrationError, UnsupportedIntegrationTypeError } from './errors';
import { createPostgresConnector } from './postgres';
import { createWebhookConnector } from './webhook';
import { createAwsConnector } from './aws';
import { createMysqlConnector } from './mysql';
import type { Connector, ConnectorRegistry } from './types';

function createConnector(name: string, config: IntegrationConfig, log: Logger | undefined): Connector {
  switch (config.type) {
    case 'postgres':
      return createPostgresConnector(name, config, { log });
    case 'webhook':
      return createWebhookConnector(name, config, { log });
    case 'aws':
      return createAwsConnector(name, config, { log });
    case 'mysql':
      return createMysqlConnector(name, config, { log });
    default:
      // Config validation admits only known types; this guards configs built by hand.
      throw new UnsupportedIntegrationTypeError(name, String((config as { type?: unknown }).type));
  }
}

/** Creates the registry of the integrations in grantflow.yaml. `get` throws UnknownIntegrationError for other names. */
export function createConnectorRegistry(
  integrations: Record<string, IntegrationConfig>,
  deps: { log?: Logger } = {},
): ConnectorRegistry {
  const created = new Map<string, Connector>();
  const names = Object.keys(integrations);
  return {
    get(integration: string): Connector {
      const existing = created.get(integration);
      if (existing) return existing;
      if (!Object.hasOwn(integrations, integration)) throw new UnknownIntegrationError(integration, names);
      const connector = createConnector(integration, integrations[integration]!, deps.log);
      created.set(integration, connector);
      return connector;
    },
    names: () => [...names],
    async closeAll(): Promise<void> {
      const open = [...created.values()];
      created.clear();
      await Promise.all(open.map((connector) => connector.close()));
    },
  };
}
