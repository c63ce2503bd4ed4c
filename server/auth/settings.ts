/**
 * Browser login settings, from the environment: the OpenID Connect provider and the public URL people reach
 * Grantflow at (the redirect URI is `<public URL>/auth/callback`; cookies are Secure when it is https).
 */
import { AuthSettingsError } from './errors';

/** The OpenID Connect client Grantflow is registered as. */
export interface OidcSettings {
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** What registerAuth needs. Without `oidc`, only dev login (in dev mode) can create sessions. */
export interface AuthSettings {
  /** Origin (and optional base path) people reach Grantflow at, without a trailing slash. */
  publicUrl: string;
  oidc?: OidcSettings;
}

/** Whether cookies must be Secure: only an https public URL can send them back. */
export function secureCookies(settings: AuthSettings): boolean {
  return settings.publicUrl.startsWith('https://');
}

/**
 * Reads GRANTFLOW_OIDC_ISSUER, GRANTFLOW_OIDC_CLIENT_ID, GRANTFLOW_OIDC_CLIENT_SECRET and GRANTFLOW_PUBLIC_URL.
 * The OIDC variables go together: some but not all of them is a mistake worth failing start-up for.
 */
export function authSettingsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  fallbackUrl = 'http://localhost:3000',
): AuthSettings {
  const read = (name: string) => env[name]?.trim() || undefined;
  const publicUrl = (read('GRANTFLOW_PUBLIC_URL') ?? fallbackUrl).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(publicUrl))
    throw new AuthSettingsError(`GRANTFLOW_PUBLIC_URL must be an http(s) URL, not ${publicUrl}`);
  const issuer = read('GRANTFLOW_OIDC_ISSUER');
  const clientId = read('GRANTFLOW_OIDC_CLIENT_ID');
  const clientSecret = read('GRANTFLOW_OIDC_CLIENT_SECRET');
  const given = [issuer, clientId, clientSecret].filter((v) => v !== undefined).length;
  if (given === 0) return { publicUrl };
  if (!issuer || !clientId || !clientSecret)
    throw new AuthSettingsError(
      'OpenID Connect login needs GRANTFLOW_OIDC_ISSUER, GRANTFLOW_OIDC_CLIENT_ID and GRANTFLOW_OIDC_CLIENT_SECRET together',
    );
  return { publicUrl, oidc: { issuer, clientId, clientSecret } };
}
