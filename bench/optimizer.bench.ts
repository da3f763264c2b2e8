// AdamW step over BERT-base's parameters (about 110M floats, the real tensor shapes), against a loop
// with the same memory traffic and no arithmetic (read p, g, m, v; write p, m, v) in the same run.
import type { FloatTensor } from '../src/checkpoint/tensor.ts';
import { AdamW, clipGradNorm, globalGradNorm } from '../src/train/optimizer.ts';

function baseShapes(): Map<string, number[]> {
  const H = 768, I = 3072, V = 30522, L = 12;
  const s = new Map<string, number[]>([
    ['bert.embeddings.word_embeddings.weight', [V, H]],
    ['bert.embeddings.position_embeddings.weight', [512, H]],
    ['bert.embeddings.token_type_embeddings.weight', [2, H]],
    ['bert.embeddings.LayerNorm.weight', [H]],
    ['bert.embeddings.LayerNorm.bias', [H]],
  ]);
  for (let l = 0; l < L; l++) {
    const p = `bert.encoder.layer.${l}`;
    for (const m of ['attention.self.query', 'attention.self.key', 'attention.self.value', 'attention.output.dense']) {
      s.set(`${p}.${m}.weight`, [H, H]);
      s.set(`${p}.${m}.bias`, [H]);
    }
    s.set(`${p}.attention.output.LayerNorm.weight`, [H]);
    s.set(`${p}.attention.output.LayerNorm.bias`, [H]);
    s.set(`${p}.intermediate.dense.weight`, [I, H]);
    s.set(`${p}.intermediate.dense.bias`, [I]);
    s.set(`${p}.output.dense.weight`, [H, I]);
    s.set(`${p}.output.dense.bias`, [H]);
    s.set(`${p}.output.LayerNorm.weight`, [H]);
    s.set(`${p}.output.LayerNorm.bias`, [H]);
  }
  s.set('bert.pooler.dense.weight', [H, H]);
  s.set('bert.pooler.dense.bias', [H]);
  s.set('cls.predictions.transform.dense.weight', [H, H]);
  s.set('cls.predictions.transform.dense.bias', [H]);
  s.set('cls.predictions.transform.LayerNorm.weight', [H]);
  s.set('cls.predictions.transform.LayerNorm.bias', [H]);
  s.set('cls.predictions.bias', [V]);
  s.set('cls.seq_relationship.weight', [2, H]);
  s.set('cls.seq_relationship.bias', [2]);
  return s;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void, runs: number): number {
  fn(); // warm-up (JIT)
  const ms: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

export async function run(): Promise<Record<string, unknown>> {
  const params = new Map<string, FloatTensor>();
  const grads = new Map<string, Float32Array>();
  let n = 0;
  for (const [name, shape] of baseShapes()) {
    const size = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    const g = new Float32Array(size);
    for (let i = 0; i < size; i++) {
      data[i] = ((i * 2654435761) % 1000) / 1e4 - 0.05;
      g[i] = ((i * 40503) % 997) / 1e5 - 0.005;
    }
    params.set(name, { shape, data });
    grads.set(name, g);
    n += size;
  }
  const opt = new AdamW(params, { weightDecay: 0.01 });
  const runs = 5;
  const stepMs = time(() => opt.step(grads, 1e-4), runs);
  // the training loops' update: the global norm, then AdamW with the clipping factor folded in
  const clippedStepMs = time(() => opt.step(grads, 1e-4, 1 / opt.gradNorm(grads.values())), runs);
  const normMs = time(() => opt.gradNorm(grads.values()), runs);
  const normJsMs = time(() => globalGradNorm(grads.values()), runs);
  // clipping in place (a pass that scales every gradient), what the loops did before the folding
  const halfNorm = globalGradNorm(grads.values()) / 2;
  const clipMs = time(() => clipGradNorm(grads, halfNorm), runs);
  const state = opt.stateTensors();
  // Same bytes moved as the AdamW loop, no arithmetic to speak of: the memory-bound floor.
  const floorMs = time(() => {
    for (const [name, p] of params) {
      const g = grads.get(name)!;
      const m = state.get(`exp_avg.${name}`)!.data;
      const v = state.get(`exp_avg_sq.${name}`)!.data;
      const d = p.data;
      for (let i = 0; i < d.length; i++) {
        const gi = g[i]!;
        m[i] = m[i]! + gi;
        v[i] = v[i]! + gi;
        d[i] = d[i]! - gi;
      }
    }
  }, runs);
  const gbMoved = (n * 4 * 7) / 1e9;
  return {
    params: n,
    adamw_step_ms: Number(stepMs.toFixed(1)),
    adamw_ns_per_param: Number(((stepMs * 1e6) / n).toFixed(2)),
    adamw_gb_per_s: Number((gbMoved / (stepMs / 1000)).toFixed(2)),
    same_traffic_floor_ms: Number(floorMs.toFixed(1)),
    adamw_over_floor: Number((stepMs / floorMs).toFixed(2)),
    adamw_clipped_step_ms: Number(clippedStepMs.toFixed(1)),
    grad_norm_ms: Number(normMs.toFixed(1)),
    grad_norm_javascript_ms: Number(normJsMs.toFixed(1)),
    clip_grad_norm_in_place_ms: Number(clipMs.toFixed(1)),
    runs,
  };
}
