/** The check a bot makes before using a `round` message: the fields it reads have their types. */
import type { RoundMessage } from "../shared/protocol.ts";

export function wellFormedRound(msg: unknown): msg is RoundMessage {
  const m = msg as Partial<RoundMessage> | null | undefined;
  return typeof m?.round === "number" && Array.isArray(m.intents) && Array.isArray(m.events);
}
