// Gradient accumulation inside one ORT run. onnxruntime-node (1.30, 1.31) copies every output of a
// run into a fresh buffer, the gradients too: 440 MB a micro-batch at BERT-base. Run one by one, K
// micro-batches pay K of those copies; in this graph the training step appears K times over shared
// parameters, the copies' gradients are summed and averaged in the graph, and they leave it once per
// optimizer step. The arithmetic is GradAccumulator's: ((g0 + g1) + g2) + ... in float32, then / K.
import { ancestors, Graph, type Value } from '../graph/graph.ts';
import * as op from '../graph/ops.ts';
import { BertError } from '../errors.ts';

/** The name of copy `m`'s input or output `name`. */
export const microBatchName = (name: string, m: number): string => `${name}@${m}`;

/**
 * `count` copies of the graph computing `outputs` and `grads` (by parameter name). Returns outputs
 * `grad:<param>`, the mean of the copies' gradients, and `<name>@<m>` for copy m's `outputs[name]`;
 * copy m reads inputs `<input>@<m>` (dropout masks included) and the shared parameters.
 */
export function microBatchGraph(outputs: Record<string, Value>, grads: ReadonlyMap<string, Value>, count: number): Record<string, Value> {
  if (!Number.isInteger(count) || count < 2) throw new BertError(`microBatchGraph: needs 2 or more micro-batches, got ${count}`);
  const from = [...Object.values(outputs), ...grads.values()];
  const g = from[0]!.graph;
  const nodes = ancestors(from);
  const u = new Graph();
  const shared = new Map<Value, Value>();
  for (const p of g.params()) shared.set(p, u.param(p.name, p.shape as number[], p.dtype));
  for (const c of g.constants) shared.set(c.value, u.constant(c.data, c.value.shape as number[], c.value.dtype, c.value.name));

  const result: Record<string, Value> = {};
  const sums = new Map<string, Value>();
  let gate: Value | undefined;
  for (let m = 0; m < count; m++) {
    const copy = new Map(shared);
    for (const v of g.inputs) {
      if (g.roles.get(v) === 'param') continue;
      const x = u.input(microBatchName(v.name, m), v.dtype, v.shape);
      copy.set(v, gate && v.dtype === 'int64' ? op.add(x, gate) : x);
    }
    const mine = (v: Value) => copy.get(v) ?? fail(v);
    u.scope(`micro_batch_${m}`, () => {
      for (const n of nodes) n.outputs.forEach((v, i) => copy.set(v, u.copyNode(n, n.inputs.map(mine))[i]!));
    });
    const reported = Object.entries(outputs).map(([name, v]) => (result[microBatchName(name, m)] = mine(v)));
    for (const [name, v] of grads) sums.set(name, m === 0 ? mine(v) : op.add(sums.get(name)!, mine(v)));
    // The sums are held until the next copy's gradients anyway, so waiting on them keeps nothing alive.
    if (m + 1 < count) gate = u.scope(`micro_batch_${m}.done`, () => doneGate([...reported, ...sums.values()]));
  }
  for (const [name, sum] of sums) result[`grad:${name}`] = op.div(sum, count);
  return result;
}

function fail(v: Value): never {
  throw new BertError(`microBatchGraph: ${v.name} is neither computed nor an input of the graph`);
}

/**
 * An int64 zero that ORT can compute only once every value in `done` is: added to the next copy's
 * integer inputs, it makes that copy wait. ORT orders nodes only by data dependencies, and without
 * this its depth-first order starts the next copy while this one's activations are still held for
 * gradients not yet computed (BERT-base, 4 x 8: peak RSS 5.2 GB without, 3.4 GB with). It reads one
 * element of each value: `done` holds the running sums, which live until the next copy's gradients
 * anyway. `x == x` (false only for NaN) keeps the zero exact whatever the values are.
 */
function doneGate(done: readonly Value[]): Value {
  const g = done[0]!.graph;
  const byRank = new Map<number, { zeros: Value; ones: Value; firsts: Value[] }>();
  for (const x of done) {
    const v = x.rank === 0 ? op.reshape(x, [1]) : x;
    let r = byRank.get(v.rank);
    if (!r) byRank.set(v.rank, (r = { zeros: g.ints(new Array<number>(v.rank).fill(0)), ones: g.ints(new Array<number>(v.rank).fill(1)), firsts: [] }));
    // v[0, 0, ...] as shape [1, 1, ...]: one Slice a value, one Concat a rank
    r.firsts.push(g.addNode('Slice', [v, r.zeros, r.ones], [{ dtype: v.dtype, shape: new Array<number>(v.rank).fill(1) }])[0]!);
  }
  const c = op.concat([...byRank.values()].map((r) => op.reshape(op.concat(r.firsts, 0), [-1])), 0);
  const finite = op.cast(op.equal(c, c), 'float32');
  return op.cast(op.mul(op.reduceSum(finite, [0], false), 0), 'int64');
}
