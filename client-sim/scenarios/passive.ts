/**
 * Passive player: thinks longer (30-60 % of a round), defends or focuses most of the time and
 * attacks only now and then.
 */
import { pick, thinkMs, type Scenario } from "../scenario.ts";

export const passive: Scenario = {
  description: "defends 50 % of rounds, focuses 30 %, attacks 20 %",
  provokesErrors: false,
  onRound(bot) {
    bot.after(thinkMs(bot, 0.3, 0.6), () => {
      const roll = bot.rng.nextInt(10);
      const target = pick(bot, bot.targets());
      if (roll < 5) bot.intent("defend");
      else if (roll < 8 || target === undefined) bot.intent("focus");
      else bot.intent("attack", target);
    });
  },
};
