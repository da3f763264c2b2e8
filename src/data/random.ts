/**
 * A small seeded PRNG: xoshiro128** (Blackman & Vigna) seeded through splitmix32. Its whole state is
 * four uint32 words, so a training run can save it in a checkpoint and resume the exact stream.
 * We avoid Math.random (unseedable) and keep every draw here so "same seed, same bytes" holds.
 */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(state: RngState) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v >>> 0) as RngState;
    // The all-zero state is a fixed point of xoshiro; a restored state can never be it.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator from an integer seed; seeds that differ in any bit give unrelated streams. */
  static fromSeed(seed: number): Rng {
    // Mix in the high bits too, so seeds beyond 2^32 are not silently truncated to equal ones.
    const next = splitmix32((seed >>> 0) ^ Math.imul(Math.floor(seed / 4294967296) >>> 0, 0x9e3779b1));
    return new Rng([next(), next(), next(), next()]);
  }

  static fromState(state: RngState): Rng {
    return new Rng(state);
  }

  /** A copy of the state (to save in a checkpoint). */
  state(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }

  /** An independent generator derived from this one's next draws (e.g. one per worker or per epoch). */
  split(): Rng {
    return Rng.fromState([this.nextUint32(), this.nextUint32(), this.nextUint32(), this.nextUint32()]);
  }

  /** A uniform uint32. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A uniform float in [0, 1) with 53 random bits, like Python's random.random(). */
  random(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A uniform integer in [lo, hi], both ends included (Python's randint). */
  randint(lo: number, hi: number): number {
    const n = hi - lo + 1;
    if (!(n >= 1) || n > 4294967296) throw new RangeError(`randint: bad range [${lo}, ${hi}]`);
    // Rejection sampling keeps every value exactly equally likely.
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return lo + (x % n);
  }

  /** Shuffles `items` in place (Fisher-Yates) and returns it. */
  shuffle<A extends { length: number; [i: number]: unknown }>(items: A): A {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.randint(0, i);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

/**
 * The example order of epoch `epoch` (0-based): a permutation of [0, size) drawn from `seed`, the
 * same for the same (seed, epoch) whatever happened before; `shuffle: false` gives 0, 1, 2, ...
 */
export function epochOrder(size: number, seed: number, epoch: number, shuffle = true): Uint32Array {
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  if (!shuffle) return order;
  const root = Rng.fromSeed(seed);
  let rng = root.split();
  for (let e = 0; e < epoch; e++) rng = root.split();
  return rng.shuffle(order);
}
