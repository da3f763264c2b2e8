// Dynamic batching: inputs from concurrent requests wait in one queue per (operation, length bucket)
// and go to the model together, up to maxBatchSize of them or once the oldest has waited maxWaitMs.
//
// Fairness: each input carries a round. A request's inputs start at the current round, and its
// k-th chunk of maxBatchSize inputs at round + k; every model call advances the round. Queues are
// ordered by (round, arrival), so a request arriving while a 256-text request is being served
// waits behind at most one chunk of it instead of all eight.

/** One kind of model call; inputs of the same `key` (same method and options) can share a call. */
export interface BatchOp<I, O> {
  /** Identifies method + options: only inputs with equal keys are merged. */
  readonly key: string;
  /** Label for /metrics (`embed`, `classify`, ...). */
  readonly name: string;
  run(inputs: I[]): Promise<O[]>;
}

export interface BatcherOptions {
  maxBatchSize: number;
  maxWaitMs: number;
  /** Called after each model call, for metrics. */
  onBatch?: (op: string, size: number, maxLength: number, seconds: number) => void;
}

interface Item {
  input: unknown;
  length: number;
  round: number;
  seq: number;
  arrived: number;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

interface Queue {
  op: BatchOp<unknown, unknown>;
  items: Item[];
}

/** Smallest power of two >= n, at least 16: inputs of a bucket pad to at most twice their length. */
export function lengthBucket(n: number): number {
  let b = 16;
  while (b < n) b *= 2;
  return b;
}

function before(a: Item, b: Item): boolean {
  return a.round < b.round || (a.round === b.round && a.seq < b.seq);
}

export class Batcher {
  private readonly queues = new Map<string, Queue>();
  private round = 0;
  private seq = 0;
  private running = false;
  private pendingCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: BatcherOptions) {
    if (!(options.maxBatchSize >= 1)) throw new RangeError(`maxBatchSize must be >= 1, got ${options.maxBatchSize}`);
    if (!(options.maxWaitMs >= 0)) throw new RangeError(`maxWaitMs must be >= 0, got ${options.maxWaitMs}`);
  }

  /** Inputs waiting for a model call. */
  get queueDepth(): number {
    return this.pendingCount;
  }

  /** Queues `inputs` (lengths in tokens, for bucketing) and resolves with the outputs in input order. */
  submit<I, O>(op: BatchOp<I, O>, inputs: readonly I[], lengths: readonly number[]): Promise<O[]> {
    const now = performance.now();
    const startRound = this.round;
    const promises = inputs.map(
      (input, i) =>
        new Promise<O>((resolve, reject) => {
          const item: Item = {
            input,
            length: lengths[i]!,
            round: startRound + Math.floor(i / this.options.maxBatchSize),
            seq: this.seq++,
            arrived: now,
            resolve: resolve as (value: unknown) => void,
            reject,
          };
          this.enqueue(op as BatchOp<unknown, unknown>, item);
        }),
    );
    this.schedule();
    return Promise.all(promises);
  }

  /** Resolves once every queued input has been answered. */
  drain(): Promise<void> {
    if (this.pendingCount === 0 && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(op: BatchOp<unknown, unknown>, item: Item): void {
    const key = `${op.key}\u0000${lengthBucket(item.length)}`;
    let q = this.queues.get(key);
    if (q === undefined) {
      q = { op, items: [] };
      this.queues.set(key, q);
    }
    // Insert in (round, seq) order; new requests usually land at the end, so search from there.
    let at = q.items.length;
    while (at > 0 && before(item, q.items[at - 1]!)) at--;
    q.items.splice(at, 0, item);
    this.pendingCount++;
  }

  /** Picks the next queue to run: the one whose head is first in (round, seq) order. */
  private next(now: number): { key: string; queue: Queue } | { wakeAt: number } | undefined {
    let first: { key: string; queue: Queue } | undefined;
    let full: { key: string; queue: Queue } | undefined;
    let wakeAt = Infinity;
    for (const [key, queue] of this.queues) {
      const head = queue.items[0]!;
      if (first === undefined || before(head, first.queue.items[0]!)) first = { key, queue };
      if (full === undefined && queue.items.length >= this.options.maxBatchSize) full = { key, queue };
      wakeAt = Math.min(wakeAt, head.arrived + this.options.maxWaitMs);
    }
    if (first === undefined) return undefined;
    const ready = (q: Queue): boolean => q.items.length >= this.options.maxBatchSize || q.items[0]!.arrived + this.options.maxWaitMs <= now;
    if (ready(first.queue)) return first;
    if (full !== undefined) return full;
    for (const [key, queue] of this.queues) if (ready(queue)) return { key, queue };
    return { wakeAt };
  }

  private schedule(): void {
    if (this.running) return;
    const now = performance.now();
    const pick = this.next(now);
    if (pick === undefined) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    if ('wakeAt' in pick) {
      if (this.timer !== undefined && this.timerDue <= pick.wakeAt) return;
      clearTimeout(this.timer);
      this.timerDue = pick.wakeAt;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.timerDue = Infinity;
        this.schedule();
      }, Math.max(0, pick.wakeAt - now));
      return;
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    const batch = pick.queue.items.splice(0, this.options.maxBatchSize);
    if (pick.queue.items.length === 0) this.queues.delete(pick.key);
    this.pendingCount -= batch.length;
    this.round++;
    this.running = true;
    void this.run(pick.queue.op, batch).finally(() => {
      this.running = false;
      this.schedule();
    });
  }

  private async run(op: BatchOp<unknown, unknown>, batch: Item[]): Promise<void> {
    const start = performance.now();
    let outputs: unknown[];
    try {
      outputs = await op.run(batch.map((it) => it.input));
      if (outputs.length !== batch.length) throw new Error(`${op.name} returned ${outputs.length} results for ${batch.length} inputs`);
    } catch (err) {
      this.options.onBatch?.(op.name, batch.length, Math.max(...batch.map((it) => it.length)), (performance.now() - start) / 1000);
      // One input can fail a whole call; rerun alone so only its own request sees the error.
      if (batch.length === 1) batch[0]!.reject(err);
      else for (const item of batch) await this.run(op, [item]);
      return;
    }
    this.options.onBatch?.(op.name, batch.length, Math.max(...batch.map((it) => it.length)), (performance.now() - start) / 1000);
    batch.forEach((item, i) => item.resolve(outputs[i]));
  }
}
