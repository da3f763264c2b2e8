// Messages between the page (page.ts) and the training worker (worker.ts).

export interface TrainSettings {
  epochs: number;
  lr: number;
  batchSize: number;
  maxSeqLength: number;
  warmupRatio: number;
  weightDecay: number;
  seed: number;
}

export type ToWorker =
  | { type: 'load'; files: Record<string, ArrayBuffer> }
  | { type: 'train'; train: string; dev: string; settings: TrainSettings }
  | { type: 'stop' }
  | { type: 'classify'; texts: string[] }
  | { type: 'fill-mask'; text: string }
  | { type: 'download' };

export interface LabelScore {
  label: string;
  score: number;
}

export type FromWorker =
  | { type: 'ready'; backend: string; threads: number }
  | { type: 'loaded'; summary: string; canFillMask: boolean; labels: string[] | null; maxPositions: number }
  | { type: 'message'; text: string }
  | { type: 'start'; steps: number; train: number; dev: number; labels: string[] }
  | { type: 'step'; step: number; steps: number; epoch: number; loss: number; lr: number; seconds: number }
  | { type: 'eval'; step: number; epoch: number; accuracy: number }
  | { type: 'done'; stopped: boolean; steps: number; losses: number[]; seconds: number }
  | { type: 'classified'; results: LabelScore[][] }
  | { type: 'filled'; results: Array<{ token: string; score: number; sequence: string }> }
  | { type: 'zip'; name: string; bytes: ArrayBuffer }
  | { type: 'error'; text: string };
