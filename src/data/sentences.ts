/**
 * Splits a plain paragraph into sentences for `--split-sentences`. Deliberately simple: a sentence
 * ends at `.`, `!` or `?` (plus closing quotes/brackets) followed by whitespace and an upper-case
 * letter, digit or opening quote, unless the word before the period is a known abbreviation or a
 * single letter (initials: "J. R. R. Tolkien"); Chinese/Japanese `。！？` always end a sentence.
 */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'sr', 'jr', 'st', 'mt', 'vs', 'etc', 'e.g', 'i.e', 'inc', 'ltd', 'co',
  'corp', 'no', 'vol', 'fig', 'gen', 'gov', 'sen', 'rep', 'rev', 'col', 'lt', 'sgt', 'capt', 'cf', 'al',
  'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep', 'sept', 'oct', 'nov', 'dec', 'u.s', 'a.m', 'p.m',
]);

const CJK_END = /[。！？]/;
const CLOSERS = new Set(['"', "'", ')', ']', '”', '’', '」', '』', '）']);

export function splitSentences(paragraph: string): string[] {
  const text = paragraph.trim();
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const cjk = CJK_END.test(ch!);
    if (!cjk && ch !== '.' && ch !== '!' && ch !== '?') continue;
    let end = i + 1;
    // "?!", "...", and closing quotes belong to the sentence they end.
    while (end < text.length && (CJK_END.test(text[end]!) || '.!?'.includes(text[end]!) || CLOSERS.has(text[end]!))) end++;
    if (!cjk) {
      if (end < text.length && !/\s/.test(text[end]!)) {
        i = end - 1;
        continue;
      }
      let next = end;
      while (next < text.length && /\s/.test(text[next]!)) next++;
      if (next < text.length && !/[\p{Lu}\p{N}"'“‘(\[\p{Script=Han}]/u.test(text[next]!)) {
        i = end - 1;
        continue;
      }
      if (ch === '.' && end === i + 1 && isAbbreviation(text, start, i)) continue;
    }
    const sentence = text.slice(start, end).trim();
    if (sentence) out.push(sentence);
    start = end;
    i = end - 1;
  }
  const rest = text.slice(start).trim();
  if (rest) out.push(rest);
  return out;
}

/** Whether the word ending just before the period at `dot` is an abbreviation or an initial. */
function isAbbreviation(text: string, from: number, dot: number): boolean {
  let w = dot;
  while (w > from && !/\s/.test(text[w - 1]!)) w--;
  const word = text.slice(w, dot).replace(/^[("'“‘[]+/, '');
  if (word.length === 1 && /\p{L}/u.test(word)) return true;
  return ABBREVIATIONS.has(word.toLowerCase());
}
