// Exponential backoff with jitter for reconnecting.

export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  random?: () => number;
}

export class Backoff {
  attempt = 0;
  private readonly base: number;
  private readonly max: number;
  private readonly random: () => number;

  constructor(o: BackoffOptions = {}) {
    this.base = o.baseMs ?? 500;
    this.max = o.maxMs ?? 15000;
    this.random = o.random ?? Math.random;
  }

  /** Delay before the next attempt ("equal jitter": half fixed, half random), then count it. */
  next(): number {
    const cap = Math.min(this.max, this.base * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    return Math.round(cap / 2 + this.random() * (cap / 2));
  }

  reset(): void {
    this.attempt = 0;
  }
}
