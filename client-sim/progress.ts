/**
 * Progress while the sim runs: a live line on a TTY (rewritten every second), otherwise one
 * summary line every 5 s so logs stay readable. Fed with the latest snapshot of every source.
 */
import { mergeEncoded } from "./histogram.ts";
import { mergeSnapshots, sumValues, type MetricsSnapshot } from "./metrics.ts";

/** seconds of latency windows behind the "current p99" */
const WINDOW_S = 5;
const PLAIN_EVERY_S = 5;

export class Progress {
  private readonly latest = new Map<number, MetricsSnapshot>();
  private readonly windows: string[][] = [];
  private pendingWindows: string[] = [];
  private lastRounds = 0;
  private lastAt = performance.now();
  private readonly startedAt = performance.now();
  private ticks = 0;
  private readonly target: number;
  private readonly out: NodeJS.WriteStream;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(target: number, out: NodeJS.WriteStream = process.stderr) {
    this.target = target;
    this.out = out;
    this.timer = setInterval(() => this.render(), 1_000);
  }

  update(source: number, snap: MetricsSnapshot): void {
    this.latest.set(source, snap);
    if (snap.window !== "") this.pendingWindows.push(snap.window);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.out.isTTY) this.out.write("\n");
  }

  private render(): void {
    this.windows.push(this.pendingWindows);
    this.pendingWindows = [];
    if (this.windows.length > WINDOW_S) this.windows.shift();
    this.ticks++;
    const tty = this.out.isTTY === true;
    if (!tty && this.ticks % PLAIN_EVERY_S !== 0) return;

    const merged = mergeSnapshots([...this.latest.values()]);
    const now = performance.now();
    const roundsPerS = (merged.rounds - this.lastRounds) / ((now - this.lastAt) / 1000);
    this.lastRounds = merged.rounds;
    this.lastAt = now;
    const p99 = mergeEncoded(this.windows.flat()).getValueAtPercentile(99) / 1000;
    const line =
      `t=${Math.round((now - this.startedAt) / 1000)}s bots ${merged.connected}/${this.target}` +
      ` rooms ${merged.rooms} rounds/s ${roundsPerS.toFixed(1)} p99 ${p99.toFixed(1)}ms` +
      ` errors ${sumValues(merged.errors)}`;
    this.out.write(tty ? `\r\x1b[2K${line}` : `[sim] ${line}\n`);
  }
}
