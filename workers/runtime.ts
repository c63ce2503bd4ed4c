/**
 * Routes the Temporal SDK's own logs (worker, workflow `log`, activity context) into our pino logger,
 * so one process writes one log format. Call once per process, before creating workers or connections.
 */
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import type { Logger } from 'pino';

let installed = false;

export function installTemporalRuntime(log: Logger, level: 'DEBUG' | 'INFO' | 'WARN' = 'WARN'): void {
  if (installed) return;
  installed = true;
  const sdkLog = log.child({ component: 'temporal-sdk' });
  const forward = (entry: LogEntry) => {
    const meta = entry.meta ?? {};
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
  // Our processes handle SIGINT/SIGTERM themselves (shutting down in order, then exiting); the Runtime's own
  // handlers would only stop workers and leave the process running.
  Runtime.install({ logger: new DefaultLogger(level, forward), shutdownSignals: [] });
}
