/**
 * A per-address budget: at most `limit` events per address in each `windowMs` (fixed windows),
 * for what anonymous clients can make the server do (replay pages, monitor login attempts). It
 * holds at most `maxAddresses` windows, dropping the oldest first, so a client spraying addresses
 * costs bounded memory (and at worst frees its own budget early).
 */
export class AddressBudget {
  private readonly windows = new Map<string, { start: number; used: number }>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly maxAddresses: number;
  private readonly now: () => number;

  constructor(opts: { limit: number; windowMs: number; maxAddresses?: number; now?: () => number }) {
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.maxAddresses = opts.maxAddresses ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  private current(address: string): { start: number; used: number } {
    const t = this.now();
    let w = this.windows.get(address);
    if (w === undefined || t - w.start >= this.windowMs) {
      // re-inserted: the map's order stays oldest window first
      this.windows.delete(address);
      w = { start: t, used: 0 };
      this.windows.set(address, w);
      if (this.windows.size > this.maxAddresses) this.windows.delete(this.windows.keys().next().value!);
    }
    return w;
  }

  /** Whether `address` has used its budget for this window. */
  exhausted(address: string): boolean {
    return this.current(address).used >= this.limit;
  }

  /** Counts one event of `address`; false (and not counted) when its budget was already used. */
  take(address: string): boolean {
    const w = this.current(address);
    if (w.used >= this.limit) return false;
    w.used++;
    return true;
  }

  /** Whole seconds until `address`'s window ends (for Retry-After). */
  retryAfterS(address: string): number {
    const w = this.windows.get(address);
    return w === undefined ? 0 : Math.max(1, Math.ceil((w.start + this.windowMs - this.now()) / 1000));
  }
}
