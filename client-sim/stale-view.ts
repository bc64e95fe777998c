/**
 * Tells a refusal that a bot earned by acting on a view one round old ("expected under load")
 * from a real server error. A bot chooses its intent on the state of the latest round it saw; by
 * the time the server checks it, a newer round may have killed the target or the sender, or the
 * target may have left. That refusal is the bot's lag, not the server's fault, but only when the
 * bot holds evidence that the server's state really changed after the choice:
 *
 * - `dead`: a round newer than the choice reports the sender's death;
 * - `target_dead`: a round newer than the choice reports the target's death;
 * - `unknown_target`: the target was in the bot's view at the choice and is gone from it now
 *   (the state patch that removed it arrived).
 *
 * Any other code, and these codes without that evidence, stays an error. The server answers an
 * intent in order, after every round it applied before it (same socket), so the evidence is in
 * hand when the refusal arrives. Error messages carry no seq: a refusal answers the latest intent
 * (a bot sends at most one per round).
 */
import type { ErrorMessage, Intent, RoundMessage } from "../shared/protocol.ts";
import { digestOf } from "./round-digest.ts";

export class StaleView {
  private self = "";
  private choice: { round: number; target: string | null; targetInView: boolean } | null = null;
  /** the deaths of each round newer than the choice that reported any */
  private readonly deathsSince: ReadonlySet<string>[] = [];

  /**
   * The bot (entity `self`) sent `intent`, chosen on the state of `round`, the latest round it had
   * seen; `inView` says whether an id is in the bot's synced state right now.
   */
  chose(self: string, round: number, intent: Intent, inView: (id: string) => boolean): void {
    this.self = self;
    const target = intent.action === "attack" ? intent.target : null;
    this.choice = { round, target, targetInView: target !== null && inView(target) };
    this.deathsSince.length = 0;
  }

  /** The target of the latest intent (null: none, or not an attack). */
  get target(): string | null {
    return this.choice?.target ?? null;
  }

  /** Every (well-formed) round message the bot receives. */
  saw(msg: RoundMessage): void {
    if (this.choice === null || msg.round <= this.choice.round) return;
    const { deaths } = digestOf(msg);
    if (deaths.size > 0) this.deathsSince.push(deaths);
  }

  private diedSince(id: string): boolean {
    return this.deathsSince.some((deaths) => deaths.has(id));
  }

  /** True when `err`, the answer to the latest intent, is explained by state that changed after the choice. */
  explains(err: ErrorMessage, inView: (id: string) => boolean): boolean {
    const c = this.choice;
    if (c === null) return false;
    switch (err?.code) {
      case "dead":
        return this.diedSince(this.self);
      case "target_dead":
        return c.target !== null && this.diedSince(c.target);
      case "unknown_target":
        return c.target !== null && c.targetInView && !inView(c.target);
      default:
        return false;
    }
  }
}
