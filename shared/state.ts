/**
 * The arena's synchronised state. The room owns it; clients receive it as deltas. Only what a
 * client needs to draw and choose targets lives here: round results travel as `round` messages.
 */
import { schema, t, type SchemaType } from "@colyseus/schema";

export const Entity = schema(
  {
    id: t.string(),
    name: t.string(),
    /** "player" | "npc" */
    kind: t.string(),
    hp: t.int32(),
    maxHp: t.int32(),
    alive: t.boolean(),
    respawnIn: t.uint8(),
    charge: t.uint8(),
    defending: t.boolean(),
    /** fought last round with last-known-good stats */
    stale: t.boolean(),
    /** sat last round out: no stats */
    absent: t.boolean(),
    /** false while a dropped player's reconnection grace runs */
    connected: t.boolean(),
  },
  "Entity",
);
export type Entity = SchemaType<typeof Entity>;

export const ArenaState = schema(
  {
    round: t.uint32(),
    /** "waiting" until the first round is applied, then "fighting" (state is only patched between rounds) */
    phase: t.string(),
    entities: t.map(Entity),
  },
  "ArenaState",
);
export type ArenaState = SchemaType<typeof ArenaState>;
