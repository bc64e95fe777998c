/**
 * A studio token's `sub` -> the player's id: its entity id, and the key the stats service keeps
 * its row under. One mapping for every studio login, injective and readable, so the studio's own
 * stats backend can read it back: characters outside `A-Z a-z 0-9 -` become `_` and two hex
 * digits per UTF-8 byte (`_` itself is `_5F`), so `auth0|5f7c` is `auth0_7C5f7c`, and a UUID or
 * a Firebase uid stays as it is.
 *
 * Refused, with the reason: an empty `sub`; one longer than a stats id (64 characters) once
 * escaped; and one that lands among the ids this server hands out itself, NPCs (`npc_…`) and
 * guests (`p_…`): a studio account must never play as a goblin or sit in a guest's seat (and the
 * stats store expires guest rows, which a studio player's must not be).
 */
import { isValidStatsId, NPC_ID_PREFIX, PLAYER_ID_PREFIX } from "../../../shared/stats.ts";

export type PlayerIdMapping = { ok: true; playerId: string } | { ok: false; message: string };

const PLAIN = /[A-Za-z0-9-]/;
const MAX_ID_LENGTH = 64;
const RESERVED_PREFIXES = [NPC_ID_PREFIX, PLAYER_ID_PREFIX];

export function playerIdOfSubject(sub: unknown): PlayerIdMapping {
  if (typeof sub !== "string" || sub === "") return { ok: false, message: "token has no sub (subject) claim" };
  // bound the work before escaping: every character escapes to at least one
  if (sub.length > MAX_ID_LENGTH) {
    return { ok: false, message: `token sub is longer than a player id (${MAX_ID_LENGTH} characters)` };
  }
  let id = "";
  for (const char of sub) {
    if (PLAIN.test(char)) id += char;
    else for (const byte of Buffer.from(char, "utf8")) id += "_" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  if (!isValidStatsId(id)) {
    return { ok: false, message: `token sub is longer than a player id once escaped (${MAX_ID_LENGTH} characters)` };
  }
  const reserved = RESERVED_PREFIXES.find((prefix) => id.startsWith(prefix));
  if (reserved !== undefined) {
    return {
      ok: false,
      message: `token sub maps to ${id}, an id this server gives ${reserved === NPC_ID_PREFIX ? "NPCs" : "guests"}`,
    };
  }
  return { ok: true, playerId: id };
}
