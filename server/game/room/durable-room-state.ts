/**
 * What a room keeps so that it outlives its process: the nonce its secret derives from, when it
 * opened, who is in (each member's join record with its latest seat) and the last round
 * journaled. Its membership events go to the journal as they happen; `checkpoint()` is what another
 * process would restore it from now (restore-plan.ts reads the same from the journal).
 */
import { $changes } from "@colyseus/schema";
import type { ArenaState } from "../../../shared/state.ts";
import type { MemberRecord } from "../journal/room-ledger.ts";
import type { JournalRecord, RoundJournal } from "../journal/round-journal.ts";
import { RoomSecret } from "../round/room-secret.ts";
import type { RestorePlan } from "./restore-plan.ts";
import type { RoomCheckpoint } from "./room-durability.ts";

type StateRoot = { [$changes]: { root: { nextUniqueId: number } } };

export class DurableRoomState {
  nonce!: Uint8Array;
  openedAtMs = 0;
  /** the last round journaled */
  lastRecord: JournalRecord | null = null;
  private readonly members = new Map<string, MemberRecord>();
  private readonly roomId: string;
  private readonly journal: RoundJournal | null;
  private readonly state: ArenaState;

  constructor(roomId: string, journal: RoundJournal | null, state: ArenaState) {
    this.roomId = roomId;
    this.journal = journal;
    this.state = state;
  }

  /** A new room: a fresh nonce, recorded in the journal. */
  open(): void {
    this.nonce = RoomSecret.newNonce();
    this.openedAtMs = Date.now();
    this.journal?.rooms.opened(this.roomId, this.nonce, this.refsUsed());
  }

  /** A restored room: what the plan says it was. */
  restore(plan: RestorePlan): void {
    this.nonce = plan.nonce;
    this.openedAtMs = plan.openedAtMs;
    this.lastRecord = plan.last;
    for (const m of plan.members) this.members.set(m.entity, m);
    // adopted from another process: this journal gets the room's record too
    this.journal?.rooms.opened(this.roomId, plan.nonce, plan.refBase);
    // new refs above every ref id a client of the old process may still hold
    const root = (this.state as unknown as StateRoot)[$changes].root;
    root.nextUniqueId = Math.max(root.nextUniqueId, plan.refBase);
  }

  /** The schema ref ids this room's state has handed out so far. */
  refsUsed(): number {
    return (this.state as unknown as StateRoot)[$changes].root.nextUniqueId;
  }

  /** A membership event, in the journal's transaction of this turn, after round `afterRound`. */
  record(m: Omit<MemberRecord, "afterRound">, afterRound: number): void {
    const record: MemberRecord = { ...m, afterRound };
    this.journal?.rooms.member(this.roomId, record);
    if (m.event === "join") this.members.set(m.entity, record);
    else if (m.event === "leave") this.members.delete(m.entity);
    else if (m.event === "seat") {
      const joined = this.members.get(m.entity);
      if (joined) this.members.set(m.entity, { ...joined, sessionId: m.sessionId, credential: m.credential });
    }
  }

  /** Resolves once what the journal holds so far is committed. */
  committed(): Promise<void> {
    const journal = this.journal;
    return journal ? new Promise((done) => journal.afterCommit(done)) : Promise.resolve();
  }

  /** What another process would restore this room from now. */
  checkpoint(): RoomCheckpoint {
    return {
      room: { room: this.roomId, nonce: this.nonce, openedAtMs: this.openedAtMs, refBase: this.refsUsed() },
      last: this.lastRecord,
      members: [...this.members.values()],
    };
  }
}
