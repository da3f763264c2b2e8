// Fill-mask on the opened (pre-trained) model: the MLM head's top tokens at each literal "[MASK]".
import { buildInferenceGraph } from '../../src/inference/graph.ts';
import { batchFeeds } from '../../src/inference/batching.ts';
import { softmax, topK } from '../../src/inference/postprocess.ts';
import { CompiledGraph } from '../../src/runtime/session.ts';
import { BertError } from '../../src/errors.ts';
import type { ModelFolder } from './model-folder.ts';

export interface Filled {
  token: string;
  score: number;
  sequence: string;
}

export class FillMask {
  private constructor(
    private readonly graph: CompiledGraph,
    private readonly folder: ModelFolder,
  ) {}

  /** Whether the folder has the MLM head's weights. */
  static possible(folder: ModelFolder): boolean {
    return folder.tensors.has('cls.predictions.transform.dense.weight');
  }

  static async compile(folder: ModelFolder): Promise<FillMask> {
    const outputs = buildInferenceGraph(folder.config, folder.tensors, { kind: 'fill-mask' }, { fused: false });
    return new FillMask(await CompiledGraph.compile(outputs), folder);
  }

  async dispose(): Promise<void> {
    await this.graph.dispose();
  }

  /** The `k` best tokens for the first "[MASK]" of `text`, with the text they make. */
  async fill(text: string, k = 5): Promise<Filled[]> {
    const tok = this.folder.tokenizer;
    const parts = text.split('[MASK]');
    if (parts.length < 2) throw new BertError('write [MASK] where a word should be predicted');
    const ids: number[] = [tok.specialIds.cls];
    parts.forEach((p, i) => {
      if (i > 0) ids.push(tok.specialIds.mask);
      ids.push(...tok.encode(p, undefined, { add_special_tokens: false }).input_ids);
    });
    ids.push(tok.specialIds.sep);
    const max = this.folder.config.max_position_embeddings;
    if (ids.length > max) throw new BertError(`the text has ${ids.length} pieces, more than the model's ${max} positions`);
    const positions = ids.flatMap((id, s) => (id === tok.specialIds.mask ? [s] : []));
    const { feeds } = batchFeeds([{ input_ids: ids, token_type_ids: ids.map(() => 0), attention_mask: ids.map(() => 1) }], tok.specialIds.pad);
    feeds.masked_lm_positions = { dtype: 'int64', shape: [1, positions.length], data: BigInt64Array.from(positions, BigInt) };
    const out = await this.graph.run(feeds);
    const logits = (out.prediction_logits!.data as Float32Array).subarray(0, tok.vocabSize);
    const probs = softmax(logits);
    return topK(probs, k).map((id) => {
      const filled = ids.map((t, s) => (s === positions[0] ? id : t)).slice(1, -1);
      return { token: tok.idToToken(id), score: probs[id]!, sequence: tok.decode(filled) };
    });
  }
}
