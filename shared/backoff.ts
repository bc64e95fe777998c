/**
 * Retry backoff, exponential with full jitter: the n-th consecutive failure waits a uniform
 * random time in [0, min(maxMs, minMs * 2^n)] ("Exponential Backoff And Jitter", AWS
 * Architecture Blog, 2015). The randomness is the point: clients that failed together (a
 * restarted server, a refused batch of joins) spread their retries over the whole window instead
 * of retrying in lockstep. One helper for every retry loop (stats RPC reconnect, the HTTP
 * breaker, client-sim's bots). Not part of the game rules, so it may draw from `Math.random`.
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ minMs: 50, maxMs: 1000 });
 * onFailure: setTimeout(retry, backoff.next());
 * onSuccess: backoff.reset();
 * ```
 */
export class Backoff {
  readonly minMs: number;
  readonly maxMs: number;
  private readonly random: () => number;
  private failures = 0;

  /**
   * @param options.minMs the first window's ceiling, ms (> 0)
   * @param options.maxMs the largest ceiling, ms (>= minMs)
   * @param options.random uniform [0, 1) source; tests pass a fixed one
   * @throws TypeError when the bounds are not 0 < minMs <= maxMs
   */
  constructor(options: { minMs: number; maxMs: number; random?: () => number }) {
    const { minMs, maxMs } = options;
    if (!(Number.isFinite(minMs) && Number.isFinite(maxMs) && minMs > 0 && minMs <= maxMs)) {
      throw new TypeError(`Backoff needs 0 < minMs <= maxMs, got ${minMs} and ${maxMs}`);
    }
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.random = options.random ?? Math.random;
  }

  /** Failures since the last `reset()`. */
  get attempts(): number {
    return this.failures;
  }

  /** The current window's ceiling, ms: what `next()` draws below. */
  get ceilingMs(): number {
    // 2^failures overflows nothing: past ~31 doublings any sane maxMs has long been reached
    return Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures, 31));
  }

  /**
   * Counts a failure and returns how long to wait before the next attempt, ms (an integer).
   * @returns a uniform draw from [0, ceiling], the ceiling doubling per failure up to maxMs
   */
  next(): number {
    const ceiling = this.ceilingMs;
    this.failures++;
    return Math.floor(this.random() * (ceiling + 1));
  }

  /** A success: the next failure starts from the smallest window again. */
  reset(): void {
    this.failures = 0;
  }
}
