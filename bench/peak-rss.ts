import { readFileSync } from 'node:fs';

/** The kernel's high-water mark of this process's RSS in MB: ORT runs block JS timers, so sampling would miss peaks. */
export function peakRssMb(): number {
  const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Math.round(Number(kb ?? NaN) / 1024);
}
