/**
 * Errors of browser login. Each has a stable code; the HTTP status is what the browser or portal gets.
 */
import { GrantflowError } from '../../core/errors';

/** The login settings in the environment are incomplete or malformed (start-up fails). */
export class AuthSettingsError extends GrantflowError {
  constructor(message: string) {
    super(message, 'auth_settings', 400, 2);
  }
}

/** A session-authenticated state-changing call did not carry the session's `x-csrf-token`. */
export class CsrfError extends GrantflowError {
  constructor() {
    super('missing or wrong x-csrf-token header', 'csrf', 403, 9);
  }
}

/** The login callback does not match a login this browser started (state, cookie or code is wrong or stale). */
export class LoginStateError extends GrantflowError {
  constructor(message: string) {
    super(message, 'login_state', 400, 9);
  }
}

/** The provider authenticated someone who is not an identity in grantflow.yaml. */
export class UnknownLoginError extends GrantflowError {
  constructor(readonly email: string) {
    super(`${email} is not a Grantflow identity`, 'unknown_identity', 403, 6);
  }
}

/** The provider did not say who logged in (no usable, verified email). */
export class NoEmailError extends GrantflowError {
  constructor(message: string) {
    super(message, 'no_email', 403, 9);
  }
}

/** OpenID Connect login is not configured. */
export class OidcOffError extends GrantflowError {
  constructor() {
    super('OpenID Connect login is not configured (GRANTFLOW_OIDC_ISSUER)', 'oidc_off', 404, 2);
  }
}
