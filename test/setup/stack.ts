/**
 * The servers the whole test run shares: one Temporal dev server (started once; the SDK's createLocal gives a
 * server only 5 s, which a cold start on 2 cores can miss) and one workflow bundle. PostgreSQL comes from
 * test/setup/postgres.ts. Tests that restart a server start their own.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowBundle } from '@temporalio/worker';
import { freePort } from '../../devstack/ports';
import {
  GRANTFLOW_SEARCH_ATTRIBUTES,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../../devstack/temporal';
import { bundleWorkflows } from '../../workers/worker';
import { installTemporalRuntime } from '../../workers/runtime';
import { createLogger } from '../../core/logger';

export interface TestTemporal {
  address: string;
  namespace: string;
  uiUrl: string;
  dbFile: string;
}

let temporal: Promise<{ server: TemporalDevServer; info: TestTemporal; dir: string }> | undefined;
let bundle: Promise<WorkflowBundle> | undefined;

// Tests log warnings and errors only, unless GRANTFLOW_LOG_LEVEL asks for more.
process.env.GRANTFLOW_LOG_LEVEL ??= 'warn';
export const testLog = createLogger('grantflow-test');
installTemporalRuntime(testLog, 'WARN');

/**
 * Starts a Temporal dev server on a temporary SQLite file and free ports. A port found free can be taken by
 * another process before the server binds it (the dev server also binds several ephemeral ports of its own),
 * so without fixed ports a failed start is tried again on new ones.
 */
export async function startOwnTemporal(dir: string, ports?: { port: number; uiPort: number }) {
  for (let attempt = 1; ; attempt++) {
    const port = ports?.port ?? (await freePort());
    const uiPort = ports?.uiPort ?? (await freePort());
    try {
      const server = await startTemporalDevServer({
        dbFile: path.join(dir, 'temporal.sqlite'),
        port,
        uiPort,
        searchAttributes: GRANTFLOW_SEARCH_ATTRIBUTES,
        readyTimeoutMs: 90_000,
      });
      return { server, port, uiPort };
    } catch (err) {
      if (ports || attempt >= 3) throw err;
      testLog.warn({ err: String(err), attempt }, 'Temporal dev server did not start; trying other ports');
    }
  }
}

export function getTestTemporal(): Promise<TestTemporal> {
  temporal ??= (async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gf-temporal-'));
    const { server } = await startOwnTemporal(dir);
    return {
      server,
      dir,
      info: {
        address: server.address,
        namespace: 'default',
        uiUrl: server.uiUrl,
        dbFile: path.join(dir, 'temporal.sqlite'),
      },
    };
  })();
  return temporal.then((t) => t.info);
}

/** The workflow bundle, built once per run. */
export function getWorkflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflows();
  return bundle;
}

export async function stopTestTemporal(): Promise<void> {
  if (!temporal) return;
  const t = await temporal.catch(() => undefined);
  temporal = undefined;
  if (!t) return;
  await t.server.stop();
  rmSync(t.dir, { recursive: true, force: true });
}
