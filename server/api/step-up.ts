/**
 * Step-up: on a flow with `stepUp: true`, approvals and denials count only from a portal session whose login
 * (`auth_time`) is within `settings.stepUpMaxAge`. The workflow already refuses chat clicks for such flows; this
 * check adds what only the server knows — how the caller authenticated, and when.
 */
import type { AppContext } from '../../core/context';
import { formatDuration } from '../../policy/duration';
import { findFlow } from '../../policy/snapshot';
import type { Caller } from './access';
import { StepUpRequiredError } from './errors';

/** Where the portal shows a request (and where a step-up login returns to). */
export function portalPath(requestId: string): string {
  return `/requests/${encodeURIComponent(requestId)}`;
}

/** Throws StepUpRequiredError when `flowName` needs a step-up the caller has not made. */
export function requireStepUp(
  ctx: AppContext,
  caller: Caller,
  flowName: string,
  requestId: string,
  now = new Date(),
): void {
  const config = ctx.config();
  if (!findFlow(config, flowName)?.stepUp) return;
  const maxAgeMs = config.settings.stepUpMaxAgeMs;
  if (!caller.authTime)
    throw new StepUpRequiredError(
      `flow ${flowName} requires a step-up: decide in the portal after logging in, not with an API token`,
    );
  if (now.getTime() - caller.authTime.getTime() <= maxAgeMs) return;
  const q = new URLSearchParams({ returnTo: portalPath(requestId), stepUp: '1' });
  throw new StepUpRequiredError(
    `flow ${flowName} requires a login within the last ${formatDuration(maxAgeMs)} to decide; yours was at ` +
      `${caller.authTime.toISOString()}. Log in again.`,
    `/auth/login?${q.toString()}`,
  );
}
