import { inflateRawSync } from 'node:zlib';
import { BertError } from '../errors.ts';
import { LIMITS } from '../limits.ts';

// A minimal ZIP reader for torch.save archives: the end-of-central-directory record, the central
// directory, local headers. Entries are STORED (torch's writer) or DEFLATE (a re-zipped archive).
// Zip64 sizes and offsets are understood because torch writes them for files over 4 GiB.

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_EOCD = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
// zlib's maxOutputLength ceiling.
const MAX_INFLATE = 2 ** 32;

export function listZip(file: Uint8Array, where: string): Map<string, ZipEntry> {
  const fail = (why: string): never => {
    throw new BertError(`not a valid zip archive: ${why}`, where);
  };
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  // The EOCD record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  let eocd = -1;
  for (let i = file.byteLength - 22; i >= Math.max(0, file.byteLength - 22 - 65535); i--) {
    if (v.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail('no end-of-central-directory record (truncated file?)');
  let count = v.getUint16(eocd + 10, true);
  let cdSize = v.getUint32(eocd + 12, true);
  let cdOffset = v.getUint32(eocd + 16, true);
  if (eocd >= 20 && v.getUint32(eocd - 20, true) === ZIP64_LOCATOR) {
    const z = Number(v.getBigUint64(eocd - 20 + 8, true));
    if (z + 56 > file.byteLength || v.getUint32(z, true) !== ZIP64_EOCD) fail('bad zip64 end-of-central-directory record');
    count = Number(v.getBigUint64(z + 32, true));
    cdSize = Number(v.getBigUint64(z + 40, true));
    cdOffset = Number(v.getBigUint64(z + 48, true));
  }
  if (cdOffset + cdSize > file.byteLength) fail(`central directory at ${cdOffset}+${cdSize} is past the end of the file (${file.byteLength} bytes)`);

  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > file.byteLength || v.getUint32(p, true) !== CENTRAL) fail(`central directory entry ${k} is corrupt`);
    const method = v.getUint16(p + 10, true);
    let compressedSize = v.getUint32(p + 20, true);
    let size = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let localHeaderOffset = v.getUint32(p + 42, true);
    if (p + 46 + nameLen + extraLen + commentLen > file.byteLength) fail(`central directory entry ${k} runs past the end of the file`);
    const name = new TextDecoder().decode(file.subarray(p + 46, p + 46 + nameLen));
    // Zip64 extra field (id 1): 8-byte values replace, in order, whichever of the fields above are 0xFFFFFFFF.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = v.getUint16(e, true);
      const len = v.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        const u64 = (): number => {
          if (q + 8 > Math.min(e + 4 + len, extraEnd)) fail(`zip64 field of central directory entry ${k} is too short`);
          q += 8;
          return Number(v.getBigUint64(q - 8, true));
        };
        if (size === 0xffffffff) size = u64();
        if (compressedSize === 0xffffffff) compressedSize = u64();
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = u64();
      }
      e += 4 + len;
    }
    entries.set(name, { name, method, compressedSize, size, localHeaderOffset });
    p = extraEnd + commentLen;
  }
  return entries;
}

/**
 * The bytes of one entry: a view into `file` when STORED, a fresh buffer when DEFLATE. `maxSize` is
 * the most the caller can use (the bytes a storage needs, the pickle limit): a larger declared size is
 * refused before anything is read, and inflating stops at the declared size, so a zip bomb costs
 * no more memory than the entry honestly claims. A deflated entry may also claim at most
 * LIMITS.inflateRatio times its compressed size (or LIMITS.inflateFloor).
 */
export function readZipEntry(file: Uint8Array, entry: ZipEntry, where: string, maxSize = Number.MAX_SAFE_INTEGER): Uint8Array {
  const fail = (why: string): never => {
    throw new BertError(`zip entry ${entry.name}: ${why}`, where);
  };
  const v = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const h = entry.localHeaderOffset;
  if (h + 30 > file.byteLength || v.getUint32(h, true) !== LOCAL) fail('bad local header');
  const start = h + 30 + v.getUint16(h + 26, true) + v.getUint16(h + 28, true);
  const end = start + entry.compressedSize;
  if (end > file.byteLength) fail(`data runs past the end of the file (truncated?)`);
  const raw = file.subarray(start, end);
  if (entry.size > maxSize) fail(`declares ${entry.size} bytes, over the ${maxSize} it may hold`);
  if (entry.method === 0) {
    if (entry.size !== entry.compressedSize) fail(`stored entry declares ${entry.size} bytes but holds ${entry.compressedSize}`);
    return raw;
  }
  if (entry.method === 8) {
    const ratioLimit = Math.max(LIMITS.inflateFloor, LIMITS.inflateRatio * entry.compressedSize);
    if (entry.size > ratioLimit) {
      fail(`declares ${entry.size} bytes from ${entry.compressedSize} compressed, over the limit of ${LIMITS.inflateRatio}x (a zip bomb?)`);
    }
    if (entry.size >= MAX_INFLATE) fail(`declares ${entry.size} bytes, more than one buffer can hold (${MAX_INFLATE})`);
    let out: Buffer;
    try {
      // One byte of headroom tells "inflates to more than declared" apart from "exactly the declared size".
      out = inflateRawSync(raw, { maxOutputLength: entry.size + 1 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return fail(`inflates to more than the ${entry.size} bytes it declares (stopped there)`);
      return fail(`corrupt deflate data: ${(err as Error).message}`);
    }
    if (out.byteLength !== entry.size) fail(`inflated to ${out.byteLength} bytes, expected ${entry.size}`);
    return out;
  }
  return fail(`compression method ${entry.method} is not supported (only stored and deflate)`);
}
