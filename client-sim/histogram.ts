/**
 * Latency histograms (HdrHistogram, pure-JS build so it runs anywhere without WebAssembly).
 * Values are recorded in microseconds; summaries are reported in milliseconds. Histograms cross
 * process boundaries as compressed base64 strings and are merged by adding them.
 */
import { build, decodeFromCompressedBase64, encodeIntoCompressedBase64, type Histogram } from "hdr-histogram-js";

/** one hour in microseconds: anything slower than that is a hang, not a latency */
const HIGHEST_US = 3_600_000_000;

export function newHistogram(): Histogram {
  return build({
    useWebAssembly: false,
    bitBucketSize: 32,
    autoResize: false,
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
}

/** Records a duration given in (fractional) milliseconds, clamped into the trackable range. */
export function recordMs(h: Histogram, ms: number): void {
  const us = Math.round(ms * 1000);
  h.recordValue(us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : us);
}

export function encodeHistogram(h: Histogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  return mergeEncoded([encoded]);
}

/** Sum of several encoded histograms (from bots, windows or worker processes). */
export function mergeEncoded(encoded: readonly string[]): Histogram {
  const total = newHistogram();
  for (const e of encoded) if (e !== "") total.add(decodeFromCompressedBase64(e, 32, false));
  return total;
}

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  stddev: number;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Milliseconds; all zero when nothing was recorded. */
export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0, stddev: 0 };
  const ms = (us: number) => round3(us / 1000);
  return {
    count: h.totalCount,
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p99: ms(h.getValueAtPercentile(99)),
    max: ms(h.maxValue),
    mean: ms(h.mean),
    stddev: ms(h.stdDeviation),
  };
}
