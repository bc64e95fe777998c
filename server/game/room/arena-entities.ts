/**
 * The arena's entities: each an Entity in the room's state and a runtime Scope on the room's tick
 * scheduler (its coroutines: an NPC's brain); removing an entity halts its scope.
 */
import { Scope, type TickScheduler } from "../../runtime/index.ts";
import { carriedState, type CarriedState } from "../../../shared/combat.ts";
import { Entity, type ArenaState } from "../../../shared/state.ts";
import { deriveStats, NPC_PROFILES } from "../../../shared/stats.ts";
import { errorFields, type Logger } from "../../observability/log.ts";
import type { GameMetrics } from "../metrics.ts";
import type { IntentQueue } from "./intent-queue.ts";

/** NPC kinds in the order a room fills them: a mixed pack a lone human can still fight. */
const NPC_KINDS = ["goblin", "wolf", "orc", "rat", "troll"].filter((k) => Object.hasOwn(NPC_PROFILES, k));

export interface EntityDeps {
  state: ArenaState;
  ticks: TickScheduler;
  /** an entity that goes takes its queued intent with it */
  intents: IntentQueue;
  metrics: GameMetrics;
  log: Logger;
  room: { readonly roomId: string };
}

export class ArenaEntities {
  private readonly scopes = new Map<string, Scope>();
  private readonly deps: EntityDeps;

  constructor(deps: EntityDeps) {
    this.deps = deps;
  }

  /** `restored`: its state as the journal left it; by default fresh, at full hp. */
  add(id: string, name: string, kind: "player" | "npc", restored?: CarriedState): void {
    // Until its first round brings real stats, an entity has the stats the service derives for
    // an unknown id; resolveRound clamps hp to the fetched maxHp.
    const maxHp = deriveStats(id).maxHp;
    const e = new Entity();
    e.id = id;
    e.name = name;
    e.kind = kind;
    Object.assign(e, carriedState(restored ?? { hp: maxHp, maxHp, alive: true, respawnIn: 0, charge: 0 }));
    e.defending = false;
    e.stale = false;
    e.absent = false;
    // NPCs are always there; a player is disconnected only while its reconnection grace runs
    e.connected = true;
    this.deps.state.entities.set(id, e);
    const onError = (err: unknown) => {
      this.deps.metrics.errors.inc("entity_coroutine");
      this.deps.log.error("entity coroutine failed", { room: this.deps.room.roomId, id, ...errorFields(err) });
    };
    this.scopes.set(id, new Scope({ name: id, order: id, ticks: this.deps.ticks, onError }));
  }

  /** A new room's `count` NPCs, named by kind and number (`npc_goblin_1`, "Goblin 1"). */
  addNpcs(count: number): { id: string; name: string }[] {
    const added: { id: string; name: string }[] = [];
    for (let i = 0; i < count; i++) {
      const kind = NPC_KINDS[i % NPC_KINDS.length];
      const id = `npc_${kind}_${i + 1}`;
      const name = `${kind[0].toUpperCase()}${kind.slice(1)} ${i + 1}`;
      this.add(id, name, "npc");
      added.push({ id, name });
    }
    return added;
  }

  async remove(id: string): Promise<void> {
    this.deps.state.entities.delete(id);
    this.deps.intents.drop(id);
    const scope = this.scopes.get(id);
    this.scopes.delete(id);
    // Scope.halt() never rejects: a coroutine that fails while halting is counted by the
    // scope's onError (entity_coroutine), like any other failure of the entity's coroutines.
    if (scope) await scope.halt();
  }

  /** every entity, its scope halted (the room is disposed) */
  async removeAll(): Promise<void> {
    await Promise.all([...this.scopes.keys()].map((id) => this.remove(id)));
  }

  /** The runtime Scope an entity owns. */
  scopeOf(id: string): Scope | undefined {
    return this.scopes.get(id);
  }
}
