/**
 * BERT's BasicTokenizer (google-research/bert tokenization.py), keeping where every character came
 * from: clean the text (drop NUL, U+FFFD and control characters, whitespace splits words), put each
 * CJK ideograph in a word of its own, lowercase and strip accents (uncased only), split punctuation.
 */

/** One word after basic tokenization: its normalized code points and their [start, end) in the input. */
export interface BasicWord {
  chars: string[];
  starts: number[];
  ends: number[];
}

const enum Kind {
  Drop = 0,
  Space = 1,
  Cjk = 2,
  Punct = 3,
  Other = 4,
}

const CONTROL = /^\p{C}$/u;
const ZS = /^\p{Zs}$/u;
const PUNCT = /^\p{P}$/u;
const MN = /\p{Mn}/gu;

/** tokenization.py's _is_chinese_char: the CJK ideograph blocks (not kana, not hangul). */
export function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** ASCII symbols count as punctuation even when Unicode says otherwise (`$`, `^`, `` ` ``). */
export function isPunctuation(ch: string): boolean {
  const cp = ch.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return PUNCT.test(ch);
}

const kindCache = new Map<number, Kind>();

function kindOf(ch: string, cp: number): Kind {
  if (cp < 128) {
    if (cp === 32 || cp === 9 || cp === 10 || cp === 13) return Kind.Space;
    if (cp === 0 || cp < 32 || cp === 127) return Kind.Drop;
    return isPunctuation(ch) ? Kind.Punct : Kind.Other;
  }
  let kind = kindCache.get(cp);
  if (kind !== undefined) return kind;
  // Whitespace: what _clean_text maps to " " (Zs) plus what Python's str.split() also splits on
  // among the characters cleaning keeps (U+2028, U+2029).
  if (cp === 0xfffd || CONTROL.test(ch)) kind = Kind.Drop;
  else if (ZS.test(ch) || cp === 0x2028 || cp === 0x2029) kind = Kind.Space;
  else if (isCjk(cp)) kind = Kind.Cjk;
  else if (isPunctuation(ch)) kind = Kind.Punct;
  else kind = Kind.Other;
  if (kindCache.size < 65536) kindCache.set(cp, kind);
  return kind;
}

/** Splits `text` into BERT's basic words; offsets are UTF-16 indices into `text`. */
export function basicTokenize(text: string, lowercase: boolean): BasicWord[] {
  const out: BasicWord[] = [];
  let raw: string[] = [];
  let rawStarts: number[] = [];
  const flush = (): void => {
    if (raw.length > 0) splitOnPunctuation(lowercase ? lowerAndStripAccents(raw, rawStarts) : withEnds(raw, rawStarts), out);
    raw = [];
    rawStarts = [];
  };
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const ch = width === 1 ? text[i]! : text.slice(i, i + 2);
    const kind = kindOf(ch, cp);
    if (kind === Kind.Space) flush();
    else if (kind === Kind.Cjk) {
      flush();
      out.push({ chars: [ch], starts: [i], ends: [i + width] });
    } else if (kind !== Kind.Drop) {
      raw.push(ch);
      rawStarts.push(i);
    }
    i += width;
  }
  flush();
  return out;
}

function withEnds(chars: string[], starts: number[]): BasicWord {
  return { chars, starts, ends: starts.map((s, k) => s + chars[k]!.length) };
}

/**
 * `token.lower()` then NFD without Mn marks, as tokenization.py does per whitespace token. Each
 * output character keeps the span of the input character it came from.
 */
function lowerAndStripAccents(chars: string[], starts: number[]): BasicWord {
  const word = chars.join('');
  // Lowercase the whole token so context rules (final sigma) apply; align per character when lengths agree.
  const lowered = word.toLowerCase();
  const perChar = chars.map((c) => c.toLowerCase());
  let aligned = perChar;
  if (lowered !== perChar.join('') && lowered.length === word.length) {
    aligned = [];
    let at = 0;
    for (const c of perChar) {
      aligned.push(lowered.slice(at, at + c.length));
      at += c.length;
    }
  }
  const out: BasicWord = { chars: [], starts: [], ends: [] };
  for (let k = 0; k < chars.length; k++) {
    let piece = aligned[k]!;
    if (piece.charCodeAt(0) >= 128 || piece.length > 1) piece = piece.normalize('NFD').replace(MN, '');
    const start = starts[k]!;
    const end = start + chars[k]!.length;
    for (const c of piece) {
      out.chars.push(c);
      out.starts.push(start);
      out.ends.push(end);
    }
  }
  return out;
}

function splitOnPunctuation(word: BasicWord, out: BasicWord[]): void {
  let current: BasicWord | undefined;
  for (let k = 0; k < word.chars.length; k++) {
    const ch = word.chars[k]!;
    if (isPunctuation(ch)) {
      out.push({ chars: [ch], starts: [word.starts[k]!], ends: [word.ends[k]!] });
      current = undefined;
    } else {
      if (current === undefined) {
        current = { chars: [], starts: [], ends: [] };
        out.push(current);
      }
      current.chars.push(ch);
      current.starts.push(word.starts[k]!);
      current.ends.push(word.ends[k]!);
    }
  }
}
