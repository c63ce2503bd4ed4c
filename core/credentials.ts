/**
 * Sign-in details made for one grant (temporary users) reach only their requester: the grant activity seals them
 * here (AES-256-GCM, bound to the request and the requester), the requester reads them through the portal or the
 * API (CLI in API mode), and the revoke forgets them. They never enter workflow history or a log.
 */
import type { IssuedCredentials } from '../connectors/types';
import type { Store } from '../store/types';
import { GrantflowError } from './errors';
import type { Keyring } from './keyring';

/** A connector made credentials, but no encryption key is configured to keep them. Not retryable. */
export class NoEncryptionKeyError extends GrantflowError {
  readonly retryable = false;
  constructor() {
    super(
      'this grant makes its own sign-in (temporary user), which Grantflow keeps encrypted for the requester: ' +
        'set GRANTFLOW_ENCRYPTION_KEYS (see docs/encryption.md)',
      'no_encryption_key',
      500,
      2,
    );
  }
}

export interface CredentialVault {
  keep(input: {
    requestId: string;
    requester: string;
    credentials: IssuedCredentials;
    expiresAt: Date;
  }): Promise<void>;
  /** The requester's sign-in for the request, or undefined when there is none (or it is someone else's). */
  read(requestId: string, email: string): Promise<IssuedCredentials | undefined>;
  forget(requestId: string): Promise<boolean>;
}

const aad = (requestId: string, requester: string) => `grant-credentials:${requestId}:${requester}`;

export function createCredentialVault(store: Store, keyring: Keyring | undefined): CredentialVault {
  return {
    async keep({ requestId, requester, credentials, expiresAt }) {
      if (!keyring) throw new NoEncryptionKeyError();
      await store.putCredentials({
        requestId,
        requester,
        sealed: keyring.sealText(JSON.stringify(credentials), aad(requestId, requester)),
        createdAt: new Date().toISOString(),
        expiresAt: expiresAt.toISOString(),
      });
    },
    async read(requestId, email) {
      const row = await store.getCredentials(requestId);
      if (!row || row.requester !== email || !keyring) return undefined;
      return JSON.parse(keyring.openText(row.sealed, aad(requestId, row.requester))) as IssuedCredentials;
    },
    forget: (requestId) => store.deleteCredentials(requestId),
  };
}
