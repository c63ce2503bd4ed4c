/**
 * Reads a zip through its central directory, as Teams does, checking each entry's size and CRC-32 with Node's
 * zlib (independent of the zip writer in scripts/teams-package.js).
 */
import assert from 'node:assert/strict';
import { crc32, inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  data: Buffer;
}

/** The entries of a zip, in central-directory order; asserts on anything malformed. */
export function readZip(zip: Buffer): ZipEntry[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(end >= 0, 'the zip has no end of central directory record');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  assert.equal(
    at + zip.readUInt32LE(end + 12),
    end,
    'the central directory ends where the end record starts',
  );
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, `central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const nameLength = zip.readUInt16LE(at + 28);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    const local = zip.readUInt32LE(at + 42);
    assert.equal(zip.readUInt32LE(local), 0x04034b50, `local header of ${name}`);
    assert.equal(zip.toString('utf8', local + 30, local + 30 + zip.readUInt16LE(local + 26)), name);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const body = zip.subarray(start, start + zip.readUInt32LE(at + 20));
    assert.ok(method === 0 || method === 8, `${name} is stored or deflated, not method ${method}`);
    const data = method === 8 ? inflateRawSync(body) : Buffer.from(body);
    assert.equal(data.length, zip.readUInt32LE(at + 24), `uncompressed size of ${name}`);
    assert.equal(crc32(data), zip.readUInt32LE(at + 16), `CRC-32 of ${name}`);
    entries.push({ name, data });
    at += 46 + nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  }
  return entries;
}
