/**
 * What the bots cost: this process's CPU (process.cpuUsage: user + system, every thread) over the
 * steady state, from its start (steady-state.ts) until the bots stop (before they leave), and the
 * client-rounds its bots received meanwhile (one round message reaching one bot). Their ratio is
 * the load generator's CPU per client-round, the figure bench:loadgen compares across client kinds.
 */
import type { SteadyState } from "./steady-state.ts";

export interface BotCpu {
  /** CPU microseconds over the steady state (user + system) */
  cpuUs: number;
  /** of which in the kernel (system calls: socket reads and writes) */
  systemUs: number;
  clientRounds: number;
  /** wall-clock seconds of the steady state measured */
  seconds: number;
}

export class SteadyCpu {
  private from: { cpu: NodeJS.CpuUsage; rounds: number; at: number } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly rounds: () => number;

  /** `rounds`: round messages received by this process's bots so far */
  constructor(rounds: () => number) {
    this.rounds = rounds;
  }

  /** Call as often as convenient: once the steady state's start is known, it is sampled on time. */
  watch(steady: SteadyState): void {
    if (this.timer !== null || !Number.isFinite(steady.at)) return;
    this.timer = setTimeout(
      () => (this.from = { cpu: process.cpuUsage(), rounds: this.rounds(), at: performance.now() }),
      Math.max(0, steady.at - Date.now()),
    );
  }

  /** The bots stop: the measurement, or null when the steady state never began. */
  end(): BotCpu | null {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.from === null) return null;
    const cpu = process.cpuUsage(this.from.cpu);
    return {
      cpuUs: cpu.user + cpu.system,
      systemUs: cpu.system,
      clientRounds: this.rounds() - this.from.rounds,
      seconds: (performance.now() - this.from.at) / 1000,
    };
  }
}
