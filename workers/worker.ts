/**
 * The worker: the one place where real dependencies (store, connectors, chat adapters) are built and
 * handed to the activity factory, and where the workflows (accessRequest, reconcileDrift) are served. Given a
 * client, it also sets the drift reconciliation Schedule (workers/schedules.ts).
 */
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type NativeConnection, type WorkflowBundle } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities } from '../activities';
import { LogChatAdapter } from '../chat-adapters/log-adapter';
import { Notifier } from '../chat-adapters/notifier';
import type { ChatAdapter } from '../chat-adapters/types';
import { buildChatAdapters } from './chat';
import type { GrantflowConfig } from '../config/types';
import { createConnectorRegistry } from '../connectors/registry';
import type { ConnectorRegistry } from '../connectors/types';
import { dataConverterFor } from '../core/codec';
import { createCredentialVault } from '../core/credentials';
import { keyringFromEnv, type Keyring } from '../core/keyring';
import type { Metrics } from '../core/metrics';
import type { Store } from '../store/types';
import { startReconcileSchedule } from './schedules';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** Bundles the workflow code once; reuse the bundle for every worker of a process or test run. */
export function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
}

export interface GrantflowWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  /** The config in force now: connectors and admin alert targets are read from it. */
  config: () => GrantflowConfig;
  store: Store;
  log: Logger;
  metrics?: Metrics;
  /** A prebuilt bundle (tests); otherwise the workflows are bundled at start. */
  workflowBundle?: WorkflowBundle;
  /** Chat adapters besides the log adapter. @default those configured (Slack, when set up) */
  chatAdapters?: ChatAdapter[];
  /** Connectors to use instead of those built from the config (tests). */
  connectors?: ConnectorRegistry;
  /** Encrypts payloads with these keys. @default GRANTFLOW_ENCRYPTION_KEYS, when set */
  keyring?: Keyring;
  /** Sets the drift reconciliation Schedule at start; without it the Schedule is left as it is. */
  client?: Client;
  /** The Schedule's id. @default 'grantflow-reconcile' */
  reconcileScheduleId?: string;
}

export interface GrantflowWorker {
  worker: Worker;
  connectors: ConnectorRegistry;
  /** Runs until shutdown() is called (or the process receives SIGINT/SIGTERM). */
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

export async function createGrantflowWorker(options: GrantflowWorkerOptions): Promise<GrantflowWorker> {
  const { store, log } = options;
  const keyring = options.keyring ?? keyringFromEnv();
  const connectors = options.connectors ?? createConnectorRegistry(options.config().integrations, { log });
  const chat = options.chatAdapters ?? buildChatAdapters(options.config, log, { store });
  const notifier = new Notifier([new LogChatAdapter(log), ...chat], store, log);
  const activities = createActivities({
    store,
    connectors,
    notifier,
    log,
    metrics: options.metrics,
    credentials: createCredentialVault(store, keyring),
    adminAlerts: () => options.config().admins.alerts,
  });
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.config().taskQueue,
    activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    // Grants are long-lived and mostly asleep: keep their workflows cached so timers wake them cheaply.
    maxCachedWorkflows: 1000,
    ...(keyring ? { dataConverter: dataConverterFor(keyring) } : {}),
  });
  // Not awaited: a slow or failing Temporal call delays nothing here (it logs a warning, and never throws).
  void startReconcileSchedule(options.client, options.config(), log, options.reconcileScheduleId);
  let running: Promise<void> | undefined;
  return {
    worker,
    connectors,
    run() {
      running ??= worker.run();
      return running;
    },
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running?.catch(() => undefined);
      if (!options.connectors) await connectors.closeAll();
    },
  };
}

const quietBundlerLogger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
