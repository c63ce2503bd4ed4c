/**
 * Connecting to Temporal: the dev server, any self-hosted cluster, or Temporal Cloud. Settings come from
 * the environment with @temporalio/envconfig's names (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*) and its config file profiles.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { dataConverterFor } from './codec';
import { TemporalUnreachableError } from './errors';
import { keyringFromEnv, type Keyring } from './keyring';

export interface TemporalSettings {
  connection: NativeConnectionOptions;
  namespace: string;
}

/** Reads connection settings; explicit overrides (e.g. from `grantflow dev`) win over the environment. */
export function temporalSettings(overrides: { address?: string; namespace?: string } = {}): TemporalSettings {
  const loaded = loadClientConnectConfig();
  const connection = { ...loaded.connectionOptions };
  if (overrides.address) connection.address = overrides.address;
  if (!connection.address) connection.address = 'localhost:7233';
  return { connection, namespace: overrides.namespace ?? loaded.namespace ?? 'default' };
}

/** The client encrypts payloads with `keyring` (default: GRANTFLOW_ENCRYPTION_KEYS, when set). */
export async function connectClient(
  settings: TemporalSettings,
  options: { keyring?: Keyring } = {},
): Promise<Client> {
  const keyring = options.keyring ?? keyringFromEnv();
  try {
    const connection = await Connection.connect({
      ...(settings.connection as ConnectionOptions),
      connectTimeout: '10s',
    });
    return new Client({
      connection,
      namespace: settings.namespace,
      ...(keyring ? { dataConverter: dataConverterFor(keyring) } : {}),
    });
  } catch (err) {
    throw new TemporalUnreachableError(String(settings.connection.address), settings.namespace, err);
  }
}

export async function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  try {
    return await NativeConnection.connect(settings.connection);
  } catch (err) {
    throw new TemporalUnreachableError(String(settings.connection.address), settings.namespace, err);
  }
}
