/**
 * Intents between rounds: validated against the arena (the shape was checked by parseIntent) and
 * queued per entity; the last valid intent of an entity before the round's cut-off counts.
 */
import type { ErrorMessage, Intent } from "../../../shared/protocol.ts";

export interface IntentWorld {
  /** alive flag of an entity, undefined when there is no such entity */
  aliveOf(id: string): boolean | undefined;
}

/** The room's checks of a well-formed intent; null = acceptable. */
export function checkIntent(world: IntentWorld, sender: string, intent: Intent): ErrorMessage | null {
  const senderAlive = world.aliveOf(sender);
  if (senderAlive === undefined) return { code: "dead", message: "you have no entity in this arena" };
  if (!senderAlive) return { code: "dead", message: "you are dead until you respawn" };
  if (intent.action !== "attack") return null;
  if (intent.target === sender) return { code: "self_target", message: "you cannot attack yourself" };
  const targetAlive = world.aliveOf(intent.target);
  if (targetAlive === undefined)
    return { code: "unknown_target", message: `no entity "${intent.target}" in this arena` };
  if (!targetAlive) return { code: "target_dead", message: `"${intent.target}" is dead` };
  return null;
}

export class IntentQueue {
  private pending = new Map<string, Intent>();

  /** Replaces any earlier intent of the same entity. */
  put(entityId: string, intent: Intent): void {
    this.pending.set(entityId, intent);
  }

  /** The round's cut-off: everything queued so far, and an empty queue for the next round. */
  takeAll(): Map<string, Intent> {
    const taken = this.pending;
    this.pending = new Map();
    return taken;
  }

  drop(entityId: string): void {
    this.pending.delete(entityId);
  }
}
