/** One word piece: its vocabulary id and the [from, to) range of the word's code points it covers. */
export interface Piece {
  id: number;
  from: number;
  to: number;
}

/**
 * Greedy longest-match-first WordPiece over one word's code points, as tokenization.py's
 * WordpieceTokenizer: non-initial pieces carry the `##` prefix; a word longer than
 * `maxInputChars` code points, or one with an unmatched stretch, becomes a single `[UNK]`.
 */
export function wordPiece(
  chars: string[],
  vocab: ReadonlyMap<string, number>,
  unkId: number,
  maxInputChars: number,
  maxPieceChars: number,
): Piece[] {
  const n = chars.length;
  if (n > maxInputChars) return [{ id: unkId, from: 0, to: n }];
  const pieces: Piece[] = [];
  let start = 0;
  while (start < n) {
    // No vocabulary entry is longer than maxPieceChars, so longer candidates cannot match.
    let end = Math.min(n, start + maxPieceChars);
    let found = -1;
    while (start < end) {
      const sub = chars.slice(start, end).join('');
      const id = vocab.get(start > 0 ? `##${sub}` : sub);
      if (id !== undefined) {
        found = id;
        break;
      }
      end--;
    }
    if (found < 0) return [{ id: unkId, from: 0, to: n }];
    pieces.push({ id: found, from: start, to: end });
    start = end;
  }
  return pieces;
}
