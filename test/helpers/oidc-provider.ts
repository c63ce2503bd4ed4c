/**
 * A real OpenID provider for the login tests (oidc-provider on loopback): one confidential client, `grantflow`
 * (code flow, PKCE required, secret `test-secret`, ID tokens always carrying `auth_time`), and a login page
 * that logs in whoever `who()` names and consents at once. A re-authentication (`prompt=login`, `max_age=0`, as
 * a step-up login sends) shows the login prompt again, which it finishes the same way.
 */
import http from 'node:http';

/** The few parts of oidc-provider's Provider the tests drive (the package ships no types). */
export interface OidcProvider {
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  interactionDetails(
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<{ prompt: { name: string }; session?: { accountId: string }; params: Record<string, unknown> }>;
  interactionFinished(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    result: Record<string, unknown>,
    options: { mergeWithLastSubmission: boolean },
  ): Promise<void>;
  Grant: new (o: { accountId: string; clientId: string }) => {
    addOIDCScope(s: string): void;
    save(): Promise<string>;
  };
}

/**
 * Starts the provider at `issuer` (listening on 127.0.0.1:`port`) for a Grantflow at `publicUrl`; every login
 * is as the email `who()` returns when the login prompt is answered.
 */
export async function startProvider(
  issuer: string,
  port: number,
  publicUrl: string,
  who: () => string,
): Promise<http.Server> {
  // Through a variable: TypeScript would look for types the package does not ship.
  const moduleName = 'oidc-provider';
  const { default: Provider } = (await import(moduleName)) as {
    default: new (issuer: string, config: Record<string, unknown>) => OidcProvider;
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'grantflow',
        client_secret: 'test-secret',
        redirect_uris: [`${publicUrl}/auth/callback`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
        // auth_time in every ID token, not only when max_age or prompt=login asks for it.
        require_auth_time: true,
      },
    ],
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, email: sub, email_verified: true }),
    }),
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    cookies: { keys: ['test-cookie-key'] },
  });
  const callback = provider.callback();
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith('/interaction/')) return callback(req, res);
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      // A first login, and a re-authentication (prompt=login / max_age) on an existing provider session alike.
      if (details.prompt.name === 'login') {
        await provider.interactionFinished(
          req,
          res,
          { login: { accountId: who() } },
          { mergeWithLastSubmission: false },
        );
        return;
      }
      const grant = new provider.Grant({
        accountId: String(details.session?.accountId),
        clientId: String(details.params.client_id),
      });
      grant.addOIDCScope(String(details.params.scope));
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { consent: { grantId } },
        { mergeWithLastSubmission: true },
      );
    })().catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}
