/**
 * What the thin seats of one process know about one room, shared by all of them: who is in it and
 * alive, and the latest `round` messages, decoded once. The room broadcasts a round as one frame,
 * byte for byte the same to every seat, so a frame equal to a cached one is not decoded again: a
 * process decodes each round once per room, not once per bot.
 *
 * The view starts from a seat's first state (first-state.ts) and follows the round messages'
 * events (deaths, respawns, who acted on whom); schema patches are not read. So it cannot see a
 * player leave: a join's first state (which is newer) drops whoever is gone, an `unknown_target`
 * refusal drops that target, and `seenAt` tells a seat which entities a round or a state confirmed
 * since a patch it could not read (thin-seat.ts's `inView` and `living`): every entity in the room
 * is in every round message (its consumed intent, its action, or the blow it took), except one
 * that did nothing, so one round after a join or leave, whoever left is no longer a target.
 */
import type { RoundMessage } from "../../shared/protocol.ts";
import { wellFormedRound } from "../round-message.ts";
import { readPayload } from "./codec.ts";
import type { FirstState } from "./first-state.ts";

interface Entity {
  alive: boolean;
  /** performance.now() when a round message or a first state last showed it in the room */
  seenAt: number;
}

export class RoomView {
  /** the latest round applied (from a round message or a first state) */
  round = -1;
  private readonly entities = new Map<string, Entity>();
  /** the two latest round frames and what they decoded to: a seat a round behind hits too */
  private frames: (Uint8Array | null)[] = [null, null];
  private decoded: unknown[] = [undefined, undefined];
  /** seats of this process in the room (the view goes when the last one does) */
  seats = 0;
  /** the living ids, built once after each change (every bot of the room reads it per intent) */
  private livingIds: string[] | null = null;
  /** the oldest `seenAt` among them */
  private livingSeenFrom = Infinity;

  /** The payload of a `round` frame whose payload starts at `offset`: decoded once per distinct frame. */
  roundOf(frame: Uint8Array, offset: number): unknown {
    for (let i = 0; i < 2; i++) {
      const cached = this.frames[i];
      if (cached !== null && Buffer.prototype.equals.call(cached, frame)) return this.decoded[i];
    }
    const msg = readPayload(frame, offset);
    this.frames = [frame, this.frames[0]];
    this.decoded = [msg, this.decoded[0]];
    if (wellFormedRound(msg) && msg.round > this.round) this.apply(msg);
    return msg;
  }

  /** A seat's first state: newer than the view (or as new), it says who is in the room. */
  applyState(state: FirstState): void {
    if (state.round < this.round) return;
    this.round = state.round;
    this.livingIds = null;
    const now = performance.now();
    for (const id of this.entities.keys()) if (!state.entities.has(id)) this.entities.delete(id);
    for (const [id, alive] of state.entities) this.entities.set(id, { alive, seenAt: now });
  }

  /** The room refused `id` as a target it does not know: it left. */
  forget(id: string): void {
    if (this.entities.delete(id)) this.livingIds = null;
  }

  has(id: string): boolean {
    return this.entities.has(id);
  }

  aliveOf(id: string): boolean | undefined {
    return this.entities.get(id)?.alive;
  }

  /** -Infinity when not in the view */
  seenAt(id: string): number {
    return this.entities.get(id)?.seenAt ?? -Infinity;
  }

  /**
   * The living ids seen since `since` (performance.now()): those a patch at `since` that this
   * view could not read cannot have removed. A seat passes the time of the latest such patch.
   */
  living(since = -Infinity): readonly string[] {
    if (this.livingIds === null) {
      this.livingIds = [];
      this.livingSeenFrom = Infinity;
      for (const [id, e] of this.entities) {
        if (!e.alive) continue;
        this.livingIds.push(id);
        this.livingSeenFrom = Math.min(this.livingSeenFrom, e.seenAt);
      }
    }
    // one round after a join or leave, every entity still in the room has been seen again
    if (this.livingSeenFrom > since) return this.livingIds;
    return this.livingIds.filter((id) => this.entities.get(id)!.seenAt > since);
  }

  /** Events in order: respawns, stances, then blows each followed by the death it caused. */
  private apply(msg: RoundMessage): void {
    this.round = msg.round;
    this.livingIds = null;
    const now = performance.now();
    const see = (id: unknown, alive?: boolean) => {
      if (typeof id !== "string") return;
      const e = this.entities.get(id);
      if (e === undefined) this.entities.set(id, { alive: alive ?? true, seenAt: now });
      else {
        e.seenAt = now;
        if (alive !== undefined) e.alive = alive;
      }
    };
    for (const e of msg.events) {
      if (e?.t === "death") see(e.by, false);
      else if (e?.t === "attack") {
        see(e.by, true);
        see(e.target);
      } else see(e?.by, true);
    }
    for (const entry of msg.intents) if (Array.isArray(entry)) see(entry[0]);
    if (Array.isArray(msg.stale)) for (const id of msg.stale) see(id);
    if (Array.isArray(msg.absent)) for (const id of msg.absent) see(id);
  }
}

/** The views of every room this process has thin seats in, by room key (metrics.ts's roomKey). */
export class RoomViews {
  private readonly views = new Map<string, RoomView>();

  /** The room's view, for one more seat. */
  take(key: string): RoomView {
    let view = this.views.get(key);
    if (view === undefined) this.views.set(key, (view = new RoomView()));
    view.seats++;
    return view;
  }

  /** A seat of the room is gone; the last one takes the view with it. */
  give(key: string): void {
    const view = this.views.get(key);
    if (view !== undefined && --view.seats === 0) this.views.delete(key);
  }
}
