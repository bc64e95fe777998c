/**
 * What a room that was live when its process died looks like again, read from the journal: the
 * last committed round replayed once (its output is every entity's state after it), then the
 * membership events recorded since the room opened (who is still in, who joined after that
 * round's cut-off and enters fresh, who left), and the seats to hold for the players. Never the
 * whole history: one row and the room's ledger.
 *
 * The same plan comes from a process's own journal (a restart in place, restore-rooms.ts) or from
 * the checkpoint the owner of a room keeps in the cluster's Redis (an adoption,
 * cluster/room-adoption.ts): both hold the room's last committed round and its members.
 *
 * A room whose last row cannot be decoded or does not replay, or whose ledger disagrees with that
 * row, is refused with the reason; nothing here comes from a client.
 */
import { carriedState, type CombatantState } from "../../../shared/combat.ts";
import { deriveStats } from "../../../shared/stats.ts";
import { replayRecord } from "../journal/replay.ts";
import type { JournalRecord } from "../journal/round-journal.ts";
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
  openedAtMs: number;
  /** the last committed round (null before the first): a cluster's next checkpoint carries it */
  last: JournalRecord | null;
  refBase: number;
  /** the last round clients saw; the room goes on with the next */
  round: number;
  /** in the order they joined */
  entities: RestoredEntity[];
  seats: RestoredSeat[];
  /** who is in, one `join` record each (with its latest seat): what the room's next checkpoint carries */
  members: MemberRecord[];
}

/** Where a plan is read from: a room's record, its last committed round and its membership events. */
export interface RestoreSource {
  room: LedgerRoom;
  /** throws for a row that cannot be decoded */
  last(): JournalRecord | undefined;
  members(): MemberRecord[];
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

export async function planRestore(source: RestoreSource): Promise<RestoreVerdict> {
  const room = source.room;
  let last;
  try {
    last = source.last();
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
  const members = [...currentMembers(source.members()).values()];
  for (const m of members) {
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
    entities.push({ id: m.entity, name: m.name, kind: m.kind, ...carriedState(state) });
    if (m.kind === "player" && m.sessionId && m.credential)
      seats.push({ pid: m.entity, name: m.name, sessionId: m.sessionId, credential: m.credential });
  }
  return {
    ok: true,
    plan: {
      roomId: room.room,
      nonce: room.nonce,
      openedAtMs: room.openedAtMs,
      last: last ?? null,
      refBase: room.refBase,
      round,
      entities,
      seats,
      members,
    },
  };
}
