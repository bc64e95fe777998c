/**
 * A token bucket per client address: an address may spend `burst` requests at once and earns
 * `perMinute` back per minute, up to `burst` again. Used for guest logins; written for any
 * per-address limit (keys come from client-address.ts): guest logins, replay pages, and failed
 * monitor logins (counted with `take` only when one fails, looked at with `peek` before any is tried).
 *
 * Memory is bounded under an address flood: at most `maxAddresses` buckets are held, and a new
 * address past that evicts the least recently seen one (O(1): a Map in order of last use). An
 * evicted bucket comes back full, so the limit leaks only to whoever already cycles through
 * `maxAddresses` other addresses, each with a full burst of its own anyway.
 */
export interface RateLimit {
  perMinute: number;
  burst: number;
  maxAddresses: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterS: number };

interface Bucket {
  tokens: number;
  /** ms, when `tokens` was last brought up to date */
  at: number;
}

export class AddressRateLimiter {
  private readonly limit: RateLimit;
  private readonly onEvict: () => void;
  /** in order of last use: the first entry is the least recently seen address */
  private readonly buckets = new Map<string, Bucket>();

  constructor(limit: RateLimit, onEvict: () => void = () => {}) {
    if (!(limit.perMinute > 0 && limit.burst >= 1 && limit.maxAddresses >= 1)) {
      throw new RangeError(`rate limit needs perMinute > 0, burst >= 1, maxAddresses >= 1`);
    }
    this.limit = limit;
    this.onEvict = onEvict;
  }

  /** Addresses holding a bucket. */
  get size(): number {
    return this.buckets.size;
  }

  /** Spends one request of `key`'s budget at `nowMs`, or says how long until one is earned. */
  take(key: string, nowMs: number): Admission {
    const { burst, maxAddresses } = this.limit;
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= maxAddresses) {
        this.buckets.delete(this.buckets.keys().next().value!);
        this.onEvict();
      }
      bucket = { tokens: burst, at: nowMs };
    } else {
      this.buckets.delete(key); // re-inserted below: now the most recently seen
      bucket.tokens = this.tokensAt(bucket, nowMs);
      bucket.at = nowMs;
    }
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return this.refusal(bucket.tokens);
  }

  /** What `take` would answer for `key` at `nowMs`, spending nothing. */
  peek(key: string, nowMs: number): Admission {
    const bucket = this.buckets.get(key);
    const tokens = bucket === undefined ? this.limit.burst : this.tokensAt(bucket, nowMs);
    return tokens >= 1 ? { ok: true } : this.refusal(tokens);
  }

  private tokensAt(bucket: Bucket, nowMs: number): number {
    const { perMinute, burst } = this.limit;
    return Math.min(burst, bucket.tokens + (Math.max(0, nowMs - bucket.at) * perMinute) / 60_000);
  }

  private refusal(tokens: number): Admission {
    return { ok: false, retryAfterS: Math.max(1, Math.ceil(((1 - tokens) * 60) / this.limit.perMinute)) };
  }
}
