// Fault injection knobs of the stats service (all off by default). Jitter and failures draw from a
// seeded sfc32 stream, so a given seed and request order reproduce the same faults.
import { Sfc32 } from "../../shared/prng.ts";

export interface Faults {
  /** added to every stats answer, ms */
  latencyMs: number;
  /** plus a uniform 0..jitterMs extra, ms */
  jitterMs: number;
  /** fraction 0..1 of ids answered with an injected 'server' error */
  failRate: number;
  /** accept requests and never answer them */
  stall: boolean;
  /** seed of the jitter/failure stream; setting it restarts the stream */
  seed: number;
}

export const DEFAULT_FAULTS: Faults = { latencyMs: 0, jitterMs: 0, failRate: 0, stall: false, seed: 1 };

/** upper bounds of the integer knobs (all start at 0), for admin PUT bodies and start-up options alike */
export const FAULT_LIMITS = { latencyMs: 600_000, jitterMs: 600_000, seed: 0xffff_ffff };

/** Checks a partial Faults from an untrusted source; names the first bad field. */
export function checkFaults(
  x: unknown,
): { ok: true; value: Partial<Faults> } | { ok: false; field: string; message: string } {
  if (typeof x !== "object" || x === null || Array.isArray(x))
    return { ok: false, field: "body", message: "body must be a JSON object" };
  const r = x as Record<string, unknown>;
  const out: Partial<Faults> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === "latencyMs" || k === "jitterMs") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > FAULT_LIMITS[k]) {
        return { ok: false, field: k, message: `field "${k}" must be an integer between 0 and ${FAULT_LIMITS[k]}` };
      }
      out[k] = v;
    } else if (k === "failRate") {
      if (typeof v !== "number" || !(v >= 0 && v <= 1))
        return { ok: false, field: k, message: `field "failRate" must be a number between 0 and 1` };
      out.failRate = v;
    } else if (k === "stall") {
      if (typeof v !== "boolean") return { ok: false, field: k, message: `field "stall" must be a boolean` };
      out.stall = v;
    } else if (k === "seed") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > FAULT_LIMITS.seed) {
        return { ok: false, field: k, message: `field "seed" must be an integer between 0 and ${FAULT_LIMITS.seed}` };
      }
      out.seed = v;
    } else {
      return { ok: false, field: k, message: `unknown field "${k}"` };
    }
  }
  return { ok: true, value: out };
}

export class FaultInjector {
  private current: Faults = { ...DEFAULT_FAULTS };
  private rng = new Sfc32(DEFAULT_FAULTS.seed);

  get faults(): Faults {
    return { ...this.current };
  }

  set(f: Partial<Faults>): void {
    const checked = checkFaults(f);
    if (!checked.ok) throw new RangeError(checked.message);
    this.current = { ...this.current, ...checked.value };
    if (checked.value.seed !== undefined) this.rng = new Sfc32(checked.value.seed);
  }

  get stall(): boolean {
    return this.current.stall;
  }

  /** Delay before an answer, ms (0 when no latency is configured). */
  delayMs(): number {
    const { latencyMs, jitterMs } = this.current;
    if (jitterMs === 0) return latencyMs;
    return latencyMs + this.rng.nextInt(jitterMs + 1);
  }

  /** Whether this id's answer should be an injected failure. */
  shouldFail(): boolean {
    const rate = this.current.failRate;
    return rate > 0 && this.rng.nextU32() / 0x1_0000_0000 < rate;
  }
}
