/**
 * The worker: the one place where real dependencies (store, connectors, chat adapters) are built and
 * handed to the activity factory, and where the workflows (accessRequest, reconcileDrift) are served. Given a
 * client, it also sets the drift reconciliation Schedule (workers/schedules.ts). With tracing on
 * (core/tracing.ts) activities and workflows are traced; shutdown drains in-flight activities for
 * GRANTFLOW_SHUTDOWN_GRACE seconds.
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
import { InvalidInputError } from '../core/errors';
import { keyringFromEnv, type Keyring } from '../core/keyring';
import type { Metrics } from '../core/metrics';
import { activeTracing, tracingConfigured, WORKFLOW_TRACING_MODULE, type Tracing } from '../core/tracing';
import type { Store } from '../store/types';
import { startReconcileSchedule } from './schedules';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/**
 * Bundles the workflow code once; reuse the bundle for every worker of a process or test run. With tracing
 * (default: when the environment configures it) the bundle includes Temporal's OpenTelemetry workflow
 * interceptors, which add spans and trace headers but no workflow commands.
 */
export function bundleWorkflows(options: { tracing?: boolean } = {}): Promise<WorkflowBundle> {
  const tracing = options.tracing ?? tracingConfigured();
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quietBundlerLogger,
    ...(tracing ? { workflowInterceptorModules: [WORKFLOW_TRACING_MODULE] } : {}),
  });
}

/** How long shutdown waits for in-flight activities before cancelling them. */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 30;
/** After the grace, cancelled activities get this long to end before the worker gives up on them. */
const SHUTDOWN_FORCE_AFTER_GRACE_MS = 15_000;

/** GRANTFLOW_SHUTDOWN_GRACE (seconds, default 30) in milliseconds. */
export function shutdownGraceFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.GRANTFLOW_SHUTDOWN_GRACE?.trim();
  if (!raw) return DEFAULT_SHUTDOWN_GRACE_SECONDS * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new InvalidInputError(
      `GRANTFLOW_SHUTDOWN_GRACE must be a number of seconds (0 or more), not "${raw}"`,
      'GRANTFLOW_SHUTDOWN_GRACE',
    );
  return Math.round(seconds * 1000);
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
  /** Traces activities and workflows when enabled. @default the tracing this process started (core/tracing.ts) */
  tracing?: Tracing;
  /** How long shutdown lets in-flight activities finish before cancelling them. @default GRANTFLOW_SHUTDOWN_GRACE */
  shutdownGraceMs?: number;
}

export interface GrantflowWorker {
  worker: Worker;
  connectors: ConnectorRegistry;
  /** Runs until shutdown() is called (or the process receives SIGINT/SIGTERM). */
  run(): Promise<void>;
  /**
   * Stops polling, lets in-flight activities finish (within the grace, then cancels them), waits for run()
   * to end, then closes the connectors it built. Safe to call more than once.
   */
  shutdown(): Promise<void>;
}

export async function createGrantflowWorker(options: GrantflowWorkerOptions): Promise<GrantflowWorker> {
  const { store, log } = options;
  const keyring = options.keyring ?? keyringFromEnv();
  const connectors = options.connectors ?? createConnectorRegistry(options.config().integrations, { log });
  const chat = options.chatAdapters ?? buildChatAdapters(options.config, log, { store, keyring });
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
  const tracing = (options.tracing ?? activeTracing()).workerOptions();
  const graceMs = options.shutdownGraceMs ?? shutdownGraceFromEnv();
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.config().taskQueue,
    activities,
    ...(options.workflowBundle
      ? {
          workflowBundle: options.workflowBundle,
          // A prebuilt bundle has its workflow interceptors already (bundleWorkflows).
          interceptors: { ...tracing.interceptors, workflowModules: undefined },
        }
      : { workflowsPath: WORKFLOWS_PATH, interceptors: tracing.interceptors }),
    sinks: tracing.sinks,
    // Grants are long-lived and mostly asleep: keep their workflows cached so timers wake them cheaply.
    maxCachedWorkflows: 1000,
    shutdownGraceTime: graceMs,
    shutdownForceTime: graceMs + SHUTDOWN_FORCE_AFTER_GRACE_MS,
    ...(keyring ? { dataConverter: dataConverterFor(keyring) } : {}),
  });
  // Not awaited: a slow or failing Temporal call delays nothing here (it logs a warning, and never throws).
  void startReconcileSchedule(options.client, options.config(), log, options.reconcileScheduleId);
  let running: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  return {
    worker,
    connectors,
    run() {
      running ??= worker.run();
      return running;
    },
    shutdown() {
      stopping ??= (async () => {
        if (worker.getState() === 'RUNNING') {
          const { numInFlightActivities } = worker.getStatus();
          log.info(
            { inFlightActivities: numInFlightActivities, graceSeconds: graceMs / 1000 },
            'worker: stopped polling; draining in-flight activities',
          );
          worker.shutdown();
        }
        const ended = await running?.then(
          () => true,
          (err: unknown) => {
            log.error({ err: String(err) }, 'worker stopped with an error');
            return false;
          },
        );
        if (ended) log.info('worker: drained');
        if (!options.connectors) await connectors.closeAll();
      })();
      return stopping;
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
