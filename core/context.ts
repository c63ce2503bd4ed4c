/**
 * What the request use cases need: the current config, the store, a Temporal client and a logger.
 * The CLI, the API server and the chat adapters each build one and call the same use cases.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { GrantflowConfig } from '../config/types';
import type { Store } from '../store/types';

export interface AppContext {
  /** The config in force now (it may be reloaded on SIGHUP). */
  config(): GrantflowConfig;
  store: Store;
  client: Client;
  log: Logger;
}

/** Who acts and through what, recorded with every action in the audit log. */
export interface Actor {
  email: string;
  /** `cli`, `api`, `slack`, `teams`, `portal`. */
  channel: string;
  /** The operating-system user, for CLI actions. */
  osUser?: string;
}
