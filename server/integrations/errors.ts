/** Errors of the Integrations page's API and of "Connect Slack"; each with its code and HTTP status. */
import { GrantflowError } from '../../core/errors';

/** Disconnect or reconnect asked of a Slack workspace that is not connected. */
export class SlackNotConnectedError extends GrantflowError {
  constructor() {
    super(
      'no Slack workspace is connected with OAuth (a SLACK_BOT_TOKEN cannot be disconnected from the portal)',
      'slack_not_connected',
      409,
      1,
    );
  }
}

/** auth.revoke failed for a reason other than the token being dead already: the token is kept, try again. */
export class SlackRevokeError extends GrantflowError {
  constructor(reason: string) {
    super(
      `Slack did not revoke the bot token (${reason}); it is still stored. Try again, or disconnect with force to forget it anyway (then revoke it in Slack: Settings → Manage apps)`,
      'slack_revoke_failed',
      502,
      1,
    );
  }
}

/** "Connect Slack" cannot start: OAuth is not configured, or tokens could not be stored encrypted. */
export class SlackOAuthUnavailableError extends GrantflowError {
  constructor(message: string) {
    super(message, 'slack_oauth_unavailable', 409, 2);
  }
}

/** No connector of that name in grantflow.yaml. */
export class UnknownIntegrationError extends GrantflowError {
  constructor(name: string) {
    super(`no integration named "${name}" in grantflow.yaml`, 'unknown_integration', 404, 4, 'name');
  }
}

/** GRANTFLOW_INTEGRATION_CHECK_INTERVAL is not a number of seconds. */
export class CheckIntervalError extends GrantflowError {
  constructor(raw: string) {
    super(
      `GRANTFLOW_INTEGRATION_CHECK_INTERVAL must be a number of seconds (0 turns periodic checks off), not "${raw}"`,
      'invalid_input',
      400,
      2,
      'GRANTFLOW_INTEGRATION_CHECK_INTERVAL',
    );
  }
}
