/**
 * Garbage sender, for robustness runs: every round it sends one malformed or unknown message
 * (wrong types, unknown fields, bad targets, unknown message types; all below the server's 1 KB
 * frame limit, where it would close the socket instead) and one valid intent. The
 * server must refuse the garbage with an `error` message and keep resolving the valid intents;
 * those refusals are expected, the valid intents are measured as usual.
 */
import { pick, thinkMs, type BotApi, type Scenario } from "../scenario.ts";

const GARBAGE: readonly ((bot: BotApi) => [string | number, unknown])[] = [
  () => ["intent", { action: "attack", target: "npc_0" }],
  () => ["intent", { seq: -1, action: "defend" }],
  () => ["intent", { seq: "7", action: "defend" }],
  () => ["intent", { seq: 1.5, action: "focus" }],
  () => ["intent", { seq: 1, action: "dance" }],
  () => ["intent", { seq: 1, action: "defend", extra: true }],
  (bot) => ["intent", { seq: 1, action: "attack", target: bot.id }],
  () => ["intent", { seq: 1, action: "attack", target: "p_nobody_here" }],
  () => ["intent", { seq: 1, action: "attack", target: "../../etc/passwd" }],
  () => ["intent", { seq: 1, action: "attack", target: "x".repeat(300) }],
  () => ["intent", null],
  () => ["intent", [1, 2, 3]],
  () => ["intent", 42],
  () => ["teleport", { x: 1, y: 2 }],
  () => [99, { hello: "world" }],
];

export const garbage: Scenario = {
  description: "one malformed/unknown message plus one valid intent per round",
  provokesErrors: true,
  onRound(bot) {
    const make = GARBAGE[bot.rng.nextInt(GARBAGE.length)];
    const [type, payload] = make(bot);
    bot.sendRaw(type, payload);
    bot.after(thinkMs(bot, 0.2, 0.4), () => {
      const target = pick(bot, bot.targets());
      if (target !== undefined) bot.intent("attack", target);
      else bot.intent("defend");
    });
  },
};
