// Label <-> id maps, fixed once from the training data and saved in config.json.
import { BertError } from '../../errors.ts';

export class LabelMap {
  readonly labels: readonly string[];
  private readonly ids: Map<string, number>;

  constructor(labels: readonly string[]) {
    this.labels = [...labels];
    this.ids = new Map(labels.map((l, i) => [l, i]));
    if (this.ids.size !== labels.length) throw new BertError(`duplicate labels in ${JSON.stringify(labels)}`);
  }

  get size(): number {
    return this.labels.length;
  }

  /** The id of a label; a label the training data never had is an error at `where`. */
  id(label: string, where?: string): number {
    const id = this.ids.get(label);
    if (id === undefined) {
      throw new BertError(`label ${JSON.stringify(label)} is not one of the training labels ${JSON.stringify(this.labels)}`, where);
    }
    return id;
  }

  label(id: number): string {
    const l = this.labels[id];
    if (l === undefined) throw new BertError(`label id ${id} out of range 0..${this.labels.length - 1}`);
    return l;
  }

  /** Hugging Face's config.json fields. */
  toConfig(): { id2label: Record<string, string>; label2id: Record<string, number> } {
    const id2label: Record<string, string> = {};
    const label2id: Record<string, number> = {};
    this.labels.forEach((l, i) => {
      id2label[String(i)] = l;
      label2id[l] = i;
    });
    return { id2label, label2id };
  }

  static fromConfig(config: { id2label: Record<string, string> }): LabelMap {
    const n = Object.keys(config.id2label).length;
    const labels: string[] = [];
    for (let i = 0; i < n; i++) {
      const l = config.id2label[String(i)];
      if (l === undefined) throw new BertError(`config id2label lacks id ${i}`);
      labels.push(l);
    }
    return new LabelMap(labels);
  }
}

/** Numbers in numeric order, anything else in code-point order: the same map on every run. */
function compareLabels(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (a.trim() !== '' && b.trim() !== '' && Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The label map of a training set: its distinct labels sorted, or `canonical` (GLUE's fixed
 * order) after checking that every training label is in it.
 */
export function buildLabelMap(examples: Iterable<{ label: string; where: string }>, canonical?: readonly string[]): LabelMap {
  const seen = new Map<string, string>();
  for (const e of examples) if (!seen.has(e.label)) seen.set(e.label, e.where);
  if (canonical !== undefined) {
    const map = new LabelMap(canonical);
    for (const [label, where] of seen) map.id(label, where);
    return map;
  }
  if (seen.size === 0) throw new BertError('no labels in the training data');
  return new LabelMap([...seen.keys()].sort(compareLabels));
}

/** The tag map of token-classification data: every tag of every sentence, sorted. */
export function buildTagMap(sentences: Iterable<{ tags: readonly string[]; where: string }>): LabelMap {
  const seen = new Set<string>();
  for (const s of sentences) for (const t of s.tags) seen.add(t);
  if (seen.size === 0) throw new BertError('no tags in the training data');
  return new LabelMap([...seen].sort(compareLabels));
}
