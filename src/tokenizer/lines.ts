import { BertError } from '../errors.ts';
import { LIMITS } from '../limits.ts';

/**
 * Lines of a UTF-8 byte stream, decoded strictly: invalid UTF-8 is a BertError naming `name:line`.
 * Splitting bytes on LF before decoding is safe (0x0A never occurs inside a multi-byte sequence)
 * and gives the exact line of a bad byte. A trailing CR is dropped; a final newline adds no line.
 */
export async function* utf8Lines(source: AsyncIterable<Uint8Array>, name: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let lineNo = 0;
  const decode = (bytes: Buffer): string => {
    lineNo++;
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new BertError('invalid UTF-8', `${name}:${lineNo}`);
    }
    return text.endsWith('\r') ? text.slice(0, -1) : text;
  };
  for await (const chunk of source) {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let nl = buf.indexOf(0x0a);
    while (nl >= 0) {
      pending.push(buf.subarray(0, nl));
      yield decode(Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
      buf = buf.subarray(nl + 1);
      nl = buf.indexOf(0x0a);
    }
    if (buf.length > 0) {
      pending.push(Buffer.from(buf));
      pendingBytes += buf.length;
      if (pendingBytes > LIMITS.textLine) throw new BertError(`line is longer than the limit of ${LIMITS.textLine} bytes`, `${name}:${lineNo + 1}`);
    }
  }
  if (pending.length > 0) yield decode(Buffer.concat(pending));
}
