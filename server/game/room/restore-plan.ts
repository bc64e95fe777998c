/**
 * What a room that was live when its process died looks like again, read from the journal: the
 * last committed round replayed once (its output is every entity's state after it), then the
 * membership events recorded since the room opened (who is still in, who joined after that
 * round's cut-off and enters fresh, who left), and the seats to hold for the players. Never the
 * whole history: one row and the room's ledger.
 *
 * A room whose last row cannot be decoded or does not replay, or whose ledger disagrees with that
 * row, is refused with the reason; nothing here comes from a client.
 */
import type { CombatantState } from "../../../shared/combat.ts";
import { deriveStats } from "../../../shared/stats.ts";
import { replayRecord } from "../journal/replay.ts";
import type { RoundJournal } from "../journal/round-journal.ts";
import type { LedgerRoom, MemberRecord } from "../journal/room-ledger.ts";

export interface RestoredEntity extends Omit<CombatantState, "defending"> {
  name: string;
  kind: "player" | "npc";
}

export interface RestoredSeat {
  pid: string;
  name: string;
  sessionId: string;
  /** what verifies the reconnection token the player's SDK holds (seat-credential.ts) */
  credential: string;
}

export interface RestorePlan {
  roomId: string;
  nonce: Uint8Array;
  refBase: number;
  /** the last round clients saw; the room goes on with the next */
  round: number;
  /** in the order they joined */
  entities: RestoredEntity[];
  seats: RestoredSeat[];
}

/** Why a room was not restored: its last row unreadable, not replaying, or at odds with its ledger. */
export type RefusalKind = "unreadable" | "diverged" | "inconsistent";

export type RestoreVerdict = { ok: true; plan: RestorePlan } | { ok: false; kind: RefusalKind; reason: string };

/** The entity as it stands now: an entity's `join` record with its later `seat` records folded in. */
function currentMembers(records: MemberRecord[]): Map<string, MemberRecord> {
  const members = new Map<string, MemberRecord>();
  for (const m of records) {
    if (m.event === "leave") members.delete(m.entity);
    else if (m.event === "join") members.set(m.entity, m);
    else {
      const joined = members.get(m.entity);
      if (joined) members.set(m.entity, { ...joined, sessionId: m.sessionId, credential: m.credential });
    }
  }
  return members;
}

export async function planRestore(journal: RoundJournal, room: LedgerRoom): Promise<RestoreVerdict> {
  let last;
  try {
    last = journal.last(room.room);
  } catch (err) {
    return { ok: false, kind: "unreadable", reason: `its last round row cannot be read: ${(err as Error).message}` };
  }
  const after = new Map<string, CombatantState>();
  if (last) {
    const replayed = await replayRecord(last);
    if (!replayed.ok)
      return {
        ok: false,
        kind: "diverged",
        reason: `its last round (${last.round}) does not replay: ${replayed.divergence}`,
      };
    for (const s of replayed.next) after.set(s.id, s);
  }
  const round = last?.round ?? 0;
  const entities: RestoredEntity[] = [];
  const seats: RestoredSeat[] = [];
  for (const m of currentMembers(journal.rooms.members(room.room)).values()) {
    const fought = after.get(m.entity);
    // in at the last round's cut-off: it must have come out of that round
    if (!fought && m.afterRound < round)
      return {
        ok: false,
        kind: "inconsistent",
        reason: `${m.entity} joined before round ${round} but is not in its output`,
      };
    const maxHp = deriveStats(m.entity).maxHp;
    // fresh, as the live room adds an entity, when it joined after that cut-off
    const state = fought ?? { hp: maxHp, maxHp, alive: true, respawnIn: 0, charge: 0 };
    entities.push({
      id: m.entity,
      name: m.name,
      kind: m.kind,
      hp: state.hp,
      maxHp: state.maxHp,
      alive: state.alive,
      respawnIn: state.respawnIn,
      charge: state.charge,
    });
    if (m.kind === "player" && m.sessionId && m.credential)
      seats.push({ pid: m.entity, name: m.name, sessionId: m.sessionId, credential: m.credential });
  }
  return { ok: true, plan: { roomId: room.room, nonce: room.nonce, refBase: room.refBase, round, entities, seats } };
}
