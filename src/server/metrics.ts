// Prometheus text exposition (format 0.0.4) for the few series the server keeps. A hand-rolled
// registry: three kinds of series do not justify a dependency.

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** A monotonically increasing count per label set. */
export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const entry = this.values.get(key);
    if (entry === undefined) this.values.set(key, { labels, value: by });
    else entry.value += by;
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines.join('\n');
  }
}

/** A value read when scraped (queue depth). */
export class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number,
  ) {}

  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${this.read()}`].join('\n');
  }
}

/** Cumulative buckets per label set, as Prometheus wants them (`le` upper bounds, then +Inf, sum, count). */
export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]! += 1;
    s.sum += value;
    s.count += 1;
  }

  /** Observations and their sum for one label set (tests read these). */
  snapshot(labels: Labels = {}): { count: number; sum: number } {
    const s = this.series.get(labelText(labels));
    return { count: s?.count ?? 0, sum: s?.sum ?? 0 };
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(le) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** The series `/metrics` shows. */
export class ServerMetrics {
  readonly requests = new Counter('bert_request_count', 'HTTP requests answered, by route and status code');
  readonly latency = new Histogram('bert_request_duration_seconds', 'Time from request received to response sent, by route', [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ]);
  readonly batchSize = new Histogram('bert_batch_size', 'Inputs per model call, by operation', [1, 2, 4, 8, 16, 32, 64, 128, 256]);
  readonly batchTokens = new Histogram('bert_batch_tokens', 'Longest input in tokens per model call (the padded length), by operation', [
    8, 16, 32, 64, 128, 256, 512,
  ]);
  readonly inferenceSeconds = new Histogram('bert_inference_duration_seconds', 'Time in one model call, by operation', [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
  ]);
  private readonly gauges: Gauge[];

  constructor(queueDepth: () => number, inFlight: () => number) {
    this.gauges = [
      new Gauge('bert_queue_size', 'Inputs waiting for a model call', queueDepth),
      new Gauge('bert_requests_in_flight', 'HTTP requests received and not yet answered', inFlight),
    ];
  }

  render(): string {
    const parts = [this.requests, this.latency, this.batchSize, this.batchTokens, this.inferenceSeconds, ...this.gauges].map((m) => m.render());
    return `${parts.join('\n')}\n`;
  }
}
