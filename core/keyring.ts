/**
 * Grantflow's encryption keys: AES-256-GCM with a key id on every ciphertext, so keys can be rotated (encrypt
 * with the first key, decrypt with any listed). Used for Temporal payloads (the payload codec), credentials kept
 * for their requester, and chat tokens stored in the database.
 *
 * Keys come from GRANTFLOW_ENCRYPTION_KEYS: `id:base64key[,id:base64key…]`, the first one current; each key is
 * 32 random bytes (`openssl rand -base64 32`). `grantflow dev` makes one in its data folder.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { GrantflowError } from './errors';

/** The key list is missing or malformed. */
export class KeyringConfigError extends GrantflowError {
  constructor(message: string) {
    super(message, 'encryption_keys', 400, 2);
  }
}

/** A ciphertext names a key that is not (or no longer) configured, or does not authenticate. */
export class DecryptionError extends GrantflowError {
  constructor(message: string) {
    super(message, 'decryption_failed', 500, 1);
  }
}

const ID = /^[A-Za-z0-9_.-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealed {
  keyId: string;
  /** IV ‖ ciphertext ‖ GCM tag. */
  data: Buffer;
}

export interface Keyring {
  /** The id new ciphertexts are made with. */
  readonly currentKeyId: string;
  readonly keyIds: readonly string[];
  /** Encrypts with the current key; `aad` binds the ciphertext to its context (it must match on decrypt). */
  seal(plaintext: Buffer, aad?: string): Sealed;
  open(sealed: Sealed, aad?: string): Buffer;
  /** Compact text form `keyId.base64url`, for database columns. */
  sealText(plaintext: string, aad?: string): string;
  openText(text: string, aad?: string): string;
}

/** Parses `id:base64key,…`; throws KeyringConfigError naming the problem (never a key). */
export function parseKeys(spec: string, source = 'GRANTFLOW_ENCRYPTION_KEYS'): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const [i, part] of spec.split(',').entries()) {
    const item = part.trim();
    if (!item) continue;
    const colon = item.indexOf(':');
    const id = colon > 0 ? item.slice(0, colon) : '';
    if (!ID.test(id))
      throw new KeyringConfigError(
        `${source}: entry ${i + 1} must be id:base64key with an id of letters, digits, _ . - (at most 32)`,
      );
    const key = Buffer.from(item.slice(colon + 1), 'base64');
    if (key.length !== 32)
      throw new KeyringConfigError(
        `${source}: key ${id} must be 32 bytes in base64 (openssl rand -base64 32), not ${key.length} bytes`,
      );
    if (keys.has(id)) throw new KeyringConfigError(`${source}: key id ${id} is listed twice`);
    keys.set(id, key);
  }
  if (keys.size === 0) throw new KeyringConfigError(`${source} lists no key`);
  return keys;
}

export function createKeyring(keys: Map<string, Buffer>): Keyring {
  const ids = [...keys.keys()];
  const currentKeyId = ids[0];
  if (currentKeyId === undefined) throw new KeyringConfigError('no encryption key');
  const ring: Keyring = {
    currentKeyId,
    keyIds: ids,
    seal(plaintext, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keys.get(currentKeyId)!, iv);
      if (aad !== undefined) cipher.setAAD(Buffer.from(aad, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      return { keyId: currentKeyId, data: Buffer.concat([iv, body, cipher.getAuthTag()]) };
    },
    open(sealed, aad) {
      const key = keys.get(sealed.keyId);
      if (!key)
        throw new DecryptionError(
          `data was encrypted with key ${sealed.keyId}, which is not in the configured keys (${ids.join(', ')})`,
        );
      if (sealed.data.length < IV_BYTES + TAG_BYTES) throw new DecryptionError('ciphertext is too short');
      const iv = sealed.data.subarray(0, IV_BYTES);
      const tag = sealed.data.subarray(sealed.data.length - TAG_BYTES);
      const body = sealed.data.subarray(IV_BYTES, sealed.data.length - TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(body), decipher.final()]);
      } catch {
        throw new DecryptionError(
          `data under key ${sealed.keyId} does not authenticate (altered, or wrong key)`,
        );
      }
    },
    sealText(plaintext, aad) {
      const sealed = ring.seal(Buffer.from(plaintext, 'utf8'), aad);
      return `${sealed.keyId}.${sealed.data.toString('base64url')}`;
    },
    openText(text, aad) {
      const dot = text.indexOf('.');
      if (dot <= 0) throw new DecryptionError('not an encrypted value');
      return ring
        .open({ keyId: text.slice(0, dot), data: Buffer.from(text.slice(dot + 1), 'base64url') }, aad)
        .toString('utf8');
    },
  };
  return ring;
}

/** The keyring from GRANTFLOW_ENCRYPTION_KEYS, or undefined when it is not set. */
export function keyringFromEnv(env: NodeJS.ProcessEnv = process.env): Keyring | undefined {
  const spec = env.GRANTFLOW_ENCRYPTION_KEYS?.trim();
  return spec ? createKeyring(parseKeys(spec)) : undefined;
}

/** A fresh key in the GRANTFLOW_ENCRYPTION_KEYS form. */
export function newKeySpec(id: string): string {
  return `${id}:${randomBytes(32).toString('base64')}`;
}
