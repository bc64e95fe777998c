/**
 * Aggressive player: decides quickly (20-40 % of a round after the result) and mostly attacks a
 * random living enemy; sometimes focuses or defends. The default load-test behaviour.
 */
import { pick, thinkMs, type Scenario } from "../scenario.ts";

export const aggressive: Scenario = {
  description: "attacks a random enemy 80 % of rounds, focuses 10 %, defends 10 %",
  provokesErrors: false,
  onRound(bot) {
    bot.after(thinkMs(bot, 0.2, 0.4), () => {
      const roll = bot.rng.nextInt(10);
      const target = pick(bot, bot.targets());
      if (roll < 8 && target !== undefined) bot.intent("attack", target);
      else if (roll === 8) bot.intent("focus");
      else bot.intent("defend");
    });
  },
};
