/** One health result from a connector's named checks: ok when all pass, a message naming each that failed. */
import type { HealthCheck, HealthResult } from './types';

export function healthOf(checks: HealthCheck[], startedMs: number, nowMs = performance.now()): HealthResult {
  const failed = checks.filter((c) => !c.ok);
  return {
    ok: failed.length === 0,
    message: failed.length ? failed.map((c) => `${c.name}: ${c.message}`).join('; ') : undefined,
    latencyMs: Math.round(nowMs - startedMs),
    checks,
  };
}
