/**
 * A local stand-in for the Bot Framework's token signer: an OpenID metadata document and a JWKS on a real HTTP
 * server, and a minter of channel tokens signed with the published key. Point botbuilder's
 * `ToBotFromChannelOpenIdMetadataUrl` at `metadataUrl` and `ToBotFromChannelTokenIssuer` at `issuer`, and
 * botbuilder's own JWT validation (`JwtTokenExtractor` → `jsonwebtoken.verify`) checks these tokens offline.
 *
 * Tokens are RS256 JWTs built with `node:crypto` (the JWS signing input is `base64url(header).base64url(payload)`,
 * signed RSASSA-PKCS1-v1_5 with SHA-256), so no JWT library is needed on the signing side.
 */
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The issuer Bot Framework channel tokens carry (`AuthenticationConstants.ToBotFromChannelTokenIssuer`). */
export const BOT_FRAMEWORK_ISSUER = 'https://api.botframework.com';

/**
 * Which key signs a minted token. `'unknown-key'` is a key the JWKS does not publish, used under the trusted
 * key's `kid`: a forged token, whose signature check fails inside `jsonwebtoken`.
 */
export type BotTokenSigner = 'trusted' | 'unknown-key';

export interface MintTokenOptions {
  /** The `aud` claim: the bot's Microsoft app id. */
  audience: string;
  /** The `serviceurl` claim; botbuilder requires it to equal the activity's `serviceUrl` when that is set. */
  serviceUrl?: string;
  /** Seconds from now until `exp`; negative for an expired token (botbuilder allows 300 s of clock skew). @default 3600 */
  expiresInSec?: number;
  /** @default 'trusted' */
  signWith?: BotTokenSigner;
  /** The `iss` claim. @default the fake's `issuer` */
  issuer?: string;
  /** The `nbf` claim, in epoch seconds. @default now - 60 */
  notBefore?: number;
  /** The header `kid`. @default the published key's id */
  kid?: string;
}

export interface FakeBotAuth {
  /** The OpenID metadata document: `http://127.0.0.1:PORT/v1/.well-known/openidconfiguration`. */
  readonly metadataUrl: string;
  /** The JWKS the metadata points to. */
  readonly jwksUrl: string;
  /** The issuer minted tokens carry; configure botbuilder's `ToBotFromChannelTokenIssuer` with it. */
  readonly issuer: string;
  /** The `kid` of the published key. */
  readonly keyId: string;
  /** Paths fetched from this server, in order (shows that botbuilder really fetched the metadata and keys). */
  readonly fetches: string[];
  /** A signed channel token (without the `Bearer ` prefix). */
  mintToken(o: MintTokenOptions): string;
  close(): Promise<void>;
}

export interface FakeBotAuthOptions {
  /** Endorsements on the published key; botbuilder requires the activity's channel id among them. @default ['msteams'] */
  endorsements?: string[];
  /** @default BOT_FRAMEWORK_ISSUER */
  issuer?: string;
}

const METADATA_PATH = '/v1/.well-known/openidconfiguration';
const JWKS_PATH = '/keys';

const base64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

function newRsaKey(): KeyObject {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
}

/** Starts the fake OpenID endpoint on 127.0.0.1 with a free port. */
export async function startFakeBotAuth(opts: FakeBotAuthOptions = {}): Promise<FakeBotAuth> {
  const trusted = newRsaKey();
  const untrusted = newRsaKey();
  const keyId = `grantflow-test-${randomUUID()}`;
  const issuer = opts.issuer ?? BOT_FRAMEWORK_ISSUER;
  const jwk = trusted.export({ format: 'jwk' });
  const keys = {
    keys: [
      {
        kty: 'RSA',
        use: 'sig',
        kid: keyId,
        n: jwk.n,
        e: jwk.e,
        endorsements: opts.endorsements ?? ['msteams'],
      },
    ],
  };
  const fetches: string[] = [];
  let origin = '';

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    fetches.push(path);
    let body: unknown;
    if (req.method === 'GET' && path === METADATA_PATH) {
      body = {
        issuer,
        authorization_endpoint: `${origin}/v1/authorize`,
        jwks_uri: `${origin}${JWKS_PATH}`,
        id_token_signing_alg_values_supported: ['RS256'],
        token_endpoint_auth_methods_supported: ['private_key_jwt'],
      };
    } else if (req.method === 'GET' && path === JWKS_PATH) {
      body = keys;
    }
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { error: 'not found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    metadataUrl: `${origin}${METADATA_PATH}`,
    jwksUrl: `${origin}${JWKS_PATH}`,
    issuer,
    keyId,
    fetches,
    mintToken(o: MintTokenOptions): string {
      const now = Math.floor(Date.now() / 1000);
      const header = { alg: 'RS256', typ: 'JWT', kid: o.kid ?? keyId };
      const payload: Record<string, unknown> = {
        iss: o.issuer ?? issuer,
        aud: o.audience,
        nbf: o.notBefore ?? now - 60,
        exp: now + (o.expiresInSec ?? 3600),
        ...(o.serviceUrl !== undefined ? { serviceurl: o.serviceUrl } : {}),
      };
      const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
      const key = (o.signWith ?? 'trusted') === 'trusted' ? trusted : untrusted;
      return `${input}.${base64url(sign('sha256', Buffer.from(input), key))}`;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
