// Task metrics, each computed exactly as its reference script does (see test/metrics.test.ts).
export * from './classification.ts';
export * from './squad.ts';
export * from './entities.ts';
