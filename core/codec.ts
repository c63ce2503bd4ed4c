/**
 * The Temporal payload codec: every payload that leaves a Grantflow client or worker is sealed with the keyring's
 * current AES-256-GCM key, so Temporal's database and history exports hold ciphertext only. The whole original
 * payload (metadata and data) is serialized and sealed; the outer payload says `binary/encrypted` and names the
 * key. Decoding opens payloads under any configured key (rotation) and leaves payloads without that encoding as
 * they are (a hand-written `temporal workflow signal --input` still works). Search attributes never pass through
 * codecs: they stay readable by design (docs/encryption.md).
 */
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { DecryptionError, type Keyring } from './keyring';

// ---- Errors of this module ------------------------------------------------------------------------------------
// DecryptionError (core/keyring.ts): a payload under a key that is not configured (the message names the key id,
// never a key), one without a key id, or one that does not authenticate (altered, or sealed under another key).

/** The outer payload's `encoding`. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** The outer payload's metadata key naming the key it was sealed with. */
export const KEY_ID_METADATA = 'encryption-key-id';
/**
 * Additional authenticated data: a payload ciphertext cannot be passed off as another kind of sealed value made
 * with the same keys (a database column, say), nor the other way round.
 */
const PAYLOAD_AAD = 'grantflow/temporal-payload/v1';

const ProtoPayload = temporal.api.common.v1.Payload;
const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');

/** Whether a payload is one this codec sealed (by its `encoding`). */
export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

/** AES-256-GCM over the whole payload, with the keyring's key ids for rotation. */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.seal(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.open(payload));
  }

  seal(payload: Payload): Payload {
    const plain = Buffer.from(ProtoPayload.encode(payload).finish());
    const sealed = this.keyring.seal(plain, PAYLOAD_AAD);
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(sealed.keyId) },
      data: sealed.data,
    };
  }

  open(payload: Payload): Payload {
    if (!isEncrypted(payload)) return payload;
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    if (!keyId) throw new DecryptionError(`an encrypted payload has no ${KEY_ID_METADATA}`);
    const plain = this.keyring.open(
      { keyId, data: Buffer.from(payload.data ?? new Uint8Array()) },
      PAYLOAD_AAD,
    );
    const inner = ProtoPayload.decode(plain);
    return {
      metadata: inner.metadata,
      data: inner.data,
      ...(inner.externalPayloads.length > 0 ? { externalPayloads: inner.externalPayloads } : {}),
    };
  }
}

/** The data converter of clients and workers with this keyring: the SDK's JSON converter, then encryption. */
export function dataConverterFor(keyring: Keyring): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keyring)] };
}
