// Entity-level precision/recall/F1 for IOB1/IOB2/IOE/BIOES tags, counted as seqeval's default
// (conlleval-compatible) mode counts them. For IOB2 input it agrees with conlleval: an I- tag
// after O, or after a tag of another type, starts a new entity. Unlike conlleval, S- and E-
// always close an entity, so BIOES is scored correctly.
import { BertError } from '../../errors.ts';

export interface Entity {
  type: string;
  /** First and last word index (inclusive), counted over the concatenated sentences. */
  start: number;
  end: number;
}

function splitTag(tag: string, where: string): [prefix: string, type: string] {
  if (tag === 'O' || tag === 'B' || tag === 'I' || tag === 'E' || tag === 'S') return [tag, '_'];
  if (!/^[BIES]-/.test(tag)) throw new BertError(`invalid tag ${JSON.stringify(tag)}: expected O or B-/I-/E-/S-TYPE`, where);
  const type = tag.slice(2);
  return [tag[0]!, type === '' ? '_' : type];
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevTag !== '.' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (tag === 'B' || tag === 'S') return true;
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  return tag !== 'O' && tag !== '.' && prevType !== type;
}

/** Entities of one tag sequence; sentences given as a list are joined with an O between them. */
export function getEntities(seq: readonly string[] | readonly (readonly string[])[]): Entity[] {
  const flat: string[] = [];
  for (const item of seq) {
    if (typeof item === 'string') flat.push(item);
    else flat.push(...item, 'O');
  }
  const chunks: Entity[] = [];
  let prevTag = 'O';
  let prevType = '';
  let begin = 0;
  flat.push('O');
  for (let i = 0; i < flat.length; i++) {
    const [tag, type] = splitTag(flat[i]!, `tag ${i}`);
    if (endOfChunk(prevTag, tag, prevType, type)) chunks.push({ type: prevType, start: begin, end: i - 1 });
    if (startOfChunk(prevTag, tag, prevType, type)) begin = i;
    prevTag = tag;
    prevType = type;
  }
  return chunks;
}

export interface EntityScore {
  precision: number;
  recall: number;
  f1: number;
  /** Gold entities. */
  support: number;
  /** Predicted entities. */
  predicted: number;
  /** Predicted entities equal to a gold one (same type, same span). */
  correct: number;
}

export interface EntityReport extends EntityScore {
  /** One row per entity type seen in the gold or predicted tags, sorted by type name. */
  per_type: Record<string, EntityScore>;
}

function score(correct: number, predicted: number, support: number): EntityScore {
  const precision = predicted > 0 ? correct / predicted : 0;
  const recall = support > 0 ? correct / support : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1, support, predicted, correct };
}

/** Micro-averaged entity scores over all sentences (fractions in [0, 1]), and the same per type. */
export function entityScores(gold: readonly (readonly string[])[], pred: readonly (readonly string[])[]): EntityReport {
  if (gold.length !== pred.length) throw new BertError(`${pred.length} predicted sentences for ${gold.length} gold ones`);
  gold.forEach((g, i) => {
    if (g.length !== pred[i]!.length) throw new BertError(`sentence ${i}: ${pred[i]!.length} predicted tags for ${g.length} words`);
  });
  const key = (e: Entity): string => `${e.type}\u0000${e.start}\u0000${e.end}`;
  const goldEntities = getEntities(gold);
  const predEntities = getEntities(pred);
  const goldKeys = new Set(goldEntities.map(key));
  const types = new Map<string, { correct: number; predicted: number; support: number }>();
  const row = (t: string) => {
    let r = types.get(t);
    if (r === undefined) types.set(t, (r = { correct: 0, predicted: 0, support: 0 }));
    return r;
  };
  for (const e of goldEntities) row(e.type).support++;
  let correct = 0;
  for (const e of predEntities) {
    const r = row(e.type);
    r.predicted++;
    if (goldKeys.has(key(e))) {
      r.correct++;
      correct++;
    }
  }
  const per_type: Record<string, EntityScore> = {};
  for (const t of [...types.keys()].sort()) {
    const r = types.get(t)!;
    per_type[t] = score(r.correct, r.predicted, r.support);
  }
  return { ...score(correct, predEntities.length, goldEntities.length), per_type };
}
