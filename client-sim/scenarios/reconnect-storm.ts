/**
 * Reconnect storm: plays like the aggressive bot, but every 20th round about a third of all bots
 * drop their connection at the same moment and reconnect (SDK reconnection, or a fresh join when
 * the SDK gives up). The drops are self-inflicted, so they are reported but not rated as errors;
 * a failed reconnect or join still is an error.
 */
import { type Scenario } from "../scenario.ts";
import { aggressive } from "./aggressive.ts";

const STORM_EVERY_ROUNDS = 20;

export const reconnectStorm: Scenario = {
  description: "aggressive, and every 20th round ~1/3 of the bots drop and reconnect at once",
  provokesErrors: false,
  onRound(bot, round) {
    if (round.round % STORM_EVERY_ROUNDS === 0 && bot.rng.nextInt(3) === 0) {
      bot.drop();
      return;
    }
    aggressive.onRound(bot, round);
  },
};
