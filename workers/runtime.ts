/**
 * The Temporal SDK's process-wide Runtime: routes its own logs (worker, workflow `log`, activity context) into our
 * pino logger, so one process writes one log format, and, with GRANTFLOW_TEMPORAL_METRICS_ADDRESS
 * (ip:port, e.g. 127.0.0.1:9464), serves the SDK's own metrics (temporal_workflow_task_*, temporal_activity_*,
 * pollers, sticky cache...) for Prometheus at http://<address>/metrics. Call once per process, before creating
 * workers or connections.
 */
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger } from 'pino';
import { InvalidInputError } from '../core/errors';
import { REQUEST_WORKFLOW_PREFIX } from '../workflows/definitions';

let installed = false;

export interface TemporalRuntimeOptions {
  /** Where the SDK's Prometheus endpoint listens (ip:port). @default GRANTFLOW_TEMPORAL_METRICS_ADDRESS, else none */
  metricsAddress?: string;
}

export function installTemporalRuntime(
  log: Logger,
  level: 'DEBUG' | 'INFO' | 'WARN' = 'WARN',
  options: TemporalRuntimeOptions = {},
): void {
  if (installed) return;
  installed = true;
  const sdkLog = log.child({ component: 'temporal-sdk' });
  const forward = (entry: LogEntry) => {
    // The SDK names the workflow; a request's workflow id carries its request id, which every line should have.
    const raw = entry.meta ?? {};
    const workflowId = typeof raw.workflowId === 'string' ? raw.workflowId : '';
    const meta = workflowId.startsWith(REQUEST_WORKFLOW_PREFIX)
      ? { requestId: workflowId.slice(REQUEST_WORKFLOW_PREFIX.length), ...raw }
      : raw;
    switch (entry.level) {
      case 'ERROR':
        return sdkLog.error(meta, entry.message);
      case 'WARN':
        return sdkLog.warn(meta, entry.message);
      case 'INFO':
        return sdkLog.info(meta, entry.message);
      default:
        return sdkLog.debug(meta, entry.message);
    }
  };
  const metricsAddress = temporalMetricsAddress(
    options.metricsAddress ?? process.env.GRANTFLOW_TEMPORAL_METRICS_ADDRESS,
  );
  // Our processes handle SIGINT/SIGTERM themselves (shutting down in order, then exiting); the Runtime's own
  // handlers would only stop workers and leave the process running.
  Runtime.install({
    logger: new DefaultLogger(level, forward),
    shutdownSignals: [],
    ...(metricsAddress
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: metricsAddress } } } }
      : {}),
  });
  if (metricsAddress)
    log.info(
      { metrics: `http://${metricsAddress}/metrics` },
      'Temporal SDK metrics are served for Prometheus',
    );
}

/** An ip:port to bind, or undefined when unset; anything else is refused with the variable's name. */
function temporalMetricsAddress(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  // The SDK binds a socket address: an IP, not a host name.
  const match = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(value);
  if (!match || Number(match[2]) > 65535)
    throw new InvalidInputError(
      `GRANTFLOW_TEMPORAL_METRICS_ADDRESS must be ip:port (e.g. 127.0.0.1:9464 or 0.0.0.0:9464), not "${value}"`,
      'GRANTFLOW_TEMPORAL_METRICS_ADDRESS',
    );
  return value;
}
