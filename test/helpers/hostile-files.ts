// Small files built to attack a reader: zip archives with chosen declared sizes, deflate bombs, and
// the torch.save fixture re-zipped around a replaced data.pkl.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import { listZip, readZipEntry } from '../../src/checkpoint/zip.ts';
import { FIXTURE } from './tiny-model.ts';

export interface ZipInput {
  name: string;
  /** The bytes written for the entry: raw when STORED, already deflated when `method` is 8. */
  data: Uint8Array;
  method: 0 | 8;
  /** The uncompressed size the directory declares; default data's length. */
  size?: number;
}

/** A zip archive (local headers, central directory, end record) holding exactly what `entries` say. */
export function zipArchive(entries: readonly ZipInput[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const size = e.size ?? e.data.byteLength;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(e.method, 8);
    local.writeUInt32LE(e.data.byteLength, 18);
    local.writeUInt32LE(Math.min(size, 0xffffffff), 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(e.method, 10);
    cd.writeUInt32LE(e.data.byteLength, 20);
    cd.writeUInt32LE(Math.min(size, 0xffffffff), 24);
    cd.writeUInt16LE(name.length, 28);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, name, Buffer.from(e.data));
    central.push(cd, name);
    offset += 30 + name.length + e.data.byteLength;
  }
  const cdBytes = Buffer.concat(central);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(entries.length, 8);
  eocd.writeUInt16LE(entries.length, 10);
  eocd.writeUInt32LE(cdBytes.length, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBytes, eocd]);
}

/**
 * Raw deflate data that inflates to `mib` MiB of zeros from about 1 KB per MiB: one sync-flushed
 * block of 1 MiB of zeros, repeated (its back-references stay inside zeros), then a final empty block.
 */
export function zerosBomb(mib: number): Buffer {
  const block = deflateRawSync(Buffer.alloc(1 << 20), { finishFlush: constants.Z_SYNC_FLUSH, level: 9 });
  return Buffer.concat([...new Array<Buffer>(mib).fill(block), deflateRawSync(Buffer.alloc(0))]);
}

/** The entries of fixtures/bert-tiny/pytorch_model.bin (a real torch.save archive), uncompressed. */
export function torchFixtureEntries(): Array<{ name: string; data: Uint8Array }> {
  const path = join(FIXTURE, 'pytorch_model.bin');
  const file = readFileSync(path);
  return [...listZip(file, path).values()].map((e) => ({ name: e.name, data: readZipEntry(file, e, path) }));
}

/** The torch fixture with its data.pkl replaced by `pkl` (deflated data, declaring `size`). */
export function torchWithPickle(pkl: { data: Uint8Array; method: 0 | 8; size?: number }): Buffer {
  return zipArchive(torchFixtureEntries().map((e) => (e.name.endsWith('/data.pkl') ? { name: e.name, ...pkl } : { ...e, method: 0 as const })));
}
