/**
 * When a run's steady state begins: at the end of the ramp or, if later, SETTLE_MS after the last
 * bot has joined. On a busy machine joins lag the ramp by seconds (a join costs the bots and the
 * server far more than a round does), and intents sent while joins still pile in measure the join
 * storm, not the steady state. A run some of whose bots never join has no steady state: `at`
 * stays Infinity.
 *
 * One process decides (client-sim's main, which sees every worker's join count) and tells the
 * workers the moment, `SETTLE_MS` ahead, so that every process counts from the same instant.
 */

/** lets the last joins' work drain (full state sends, first rounds of new rooms) */
export const SETTLE_MS = 2_000;

export class SteadyState {
  /** epoch ms at which the steady state begins; Infinity until every bot has joined */
  at = Infinity;
  private readonly rampEndsAt: number;

  constructor(rampEndsAt: number) {
    this.rampEndsAt = rampEndsAt;
  }

  /**
   * Tells it how many of the run's `of` bots have joined (at least once) so far.
   * @returns true once: when this call fixed the start (then announce `at` to the workers)
   */
  joined(count: number, of: number): boolean {
    if (this.at !== Infinity || count < of) return false;
    this.at = Math.max(this.rampEndsAt, Date.now() + SETTLE_MS);
    return true;
  }

  /** The start decided in another process (see joined). */
  begin(at: number): void {
    this.at = at;
  }

  /** True from the steady state's start on. */
  get begun(): boolean {
    return Date.now() >= this.at;
  }
}
