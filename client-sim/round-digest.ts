/**
 * What a bot reads from a `round` message, worked out once per message object: who died, who
 * came back, and which intent of each entity the round consumed. The thin client hands every bot
 * of a room in the process the same message object (thin/room-view.ts), so its bots share one
 * digest per round instead of each walking the events and intents; an SDK bot digests its own.
 */
import type { RoundMessage } from "../shared/protocol.ts";

export interface RoundDigest {
  readonly deaths: ReadonlySet<string>;
  readonly respawns: ReadonlySet<string>;
  /** entity id -> seq of its intent the round consumed */
  readonly seqOf: ReadonlyMap<string, number>;
}

const digests = new WeakMap<RoundMessage, RoundDigest>();

/** `msg` must be well-formed (round-message.ts). */
export function digestOf(msg: RoundMessage): RoundDigest {
  let digest = digests.get(msg);
  if (digest !== undefined) return digest;
  const deaths = new Set<string>();
  const respawns = new Set<string>();
  for (const e of msg.events) {
    if (e?.t === "death") deaths.add(e.by);
    else if (e?.t === "respawn") respawns.add(e.by);
  }
  const seqOf = new Map<string, number>();
  for (const entry of msg.intents) if (Array.isArray(entry)) seqOf.set(entry[0], entry[1]);
  digests.set(msg, (digest = { deaths, respawns, seqOf }));
  return digest;
}
