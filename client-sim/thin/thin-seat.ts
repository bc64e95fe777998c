/**
 * A seat held by the thin client: one `ws` WebSocket to the reserved seat, read as a small state
 * machine on the process's one event loop (joining -> joined -> closed), with no
 * per-seat decoder. Per round it counts the state patch's bytes, takes the `round` message from the
 * room's shared view (decoded once per process: room-view.ts) and passes it to the bot; the bot's
 * intents go out as the SDK would send them (codec.ts).
 *
 * The join follows the SDK: the room's JOIN_ROOM frame is acknowledged with a JOIN_ROOM byte (the
 * room sends the state and queued messages only then), the seat is joined from that frame on, its
 * reconnection token is `${roomId}:${token}`. The first ROOM_STATE is decoded once, for the view.
 *
 * Nothing is ignored: a protocol code, modifier, handshake section or serializer this client does
 * not know, a state reflection other than shared/state.ts's, a frame that does not decode, each is
 * counted as a `protocol:*` error (the report rates it) and logged.
 *
 * Cancellation: aborting the join's signal closes the socket and rejects. After the join, the bot
 * ends the seat with `leave()` (consented) or `close()`; a drop is seen as the socket's close.
 */
import WebSocket from "ws";
import { CloseCode, Protocol } from "@colyseus/sdk";
import { Msg, type ErrorMessage, type RoundMessage } from "../../shared/protocol.ts";
import type { ConnectionObserver, Seat, SeatEvents } from "../seat.ts";
import {
  CODE_MASK,
  JOIN_ACK,
  LEAVE,
  readDataType,
  readError,
  readJoin,
  readPayload,
  roomData,
  stateOffset,
  TIMED,
  UNRELIABLE,
} from "./codec.ts";
import { readState, sameSchema } from "./first-state.ts";
import type { RoomView, RoomViews } from "./room-view.ts";

/** close codes after which the SDK would try to reconnect: a drop, not a closed seat */
const DROP_CODES: readonly number[] = [
  CloseCode.NO_STATUS_RECEIVED,
  CloseCode.ABNORMAL_CLOSURE,
  CloseCode.GOING_AWAY,
  CloseCode.MAY_TRY_RECONNECT,
];

/** a seat's events before anyone listens (and a base for listeners that want only some) */
export const NO_EVENTS: SeatEvents = {
  round() {},
  error() {},
  unexpected() {},
  roomError() {},
  dropped() {},
  reconnected() {},
  ended() {},
};

/** What the seats of one process share: the room views and where protocol errors go. */
export interface ThinContext {
  readonly views: RoomViews;
  /** a `protocol:<what>` error: counted and logged */
  protocolError(what: string, detail?: Record<string, unknown>): void;
}

type Phase = "joining" | "joined" | "closed";

export class ThinSeat implements Seat {
  readonly roomId: string;
  readonly key: string;
  reconnectionToken = "";
  /** resolves once the room sent JOIN_ROOM; rejects when the seat is refused, closed or aborted first */
  readonly joined: Promise<ThinSeat>;

  private readonly ws: WebSocket;
  private readonly ctx: ThinContext;
  private readonly view: RoomView;
  private phase: Phase = "joining";
  private events: SeatEvents = NO_EVENTS;
  private settle: { resolve(seat: ThinSeat): void; reject(err: unknown): void } | null = null;
  private dropReason: string | undefined;
  private readonly leaving: (() => void)[] = [];
  /** performance.now() of a state patch not yet followed by its round message; -1: none */
  private patchAt = -1;
  /** performance.now() of the latest patch that was not a round's: a join, leave, drop or reconnect */
  private membershipChangedAt = -Infinity;

  constructor(
    ctx: ThinContext,
    url: string,
    roomId: string,
    key: string,
    observer: ConnectionObserver,
    signal: AbortSignal,
  ) {
    this.ctx = ctx;
    this.roomId = roomId;
    this.key = key;
    this.view = ctx.views.take(key);
    this.joined = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    const onAbort = () => this.failJoin(signal.reason ?? new DOMException("join aborted", "AbortError"));
    signal.addEventListener("abort", onAbort, { once: true });
    void this.joined.then(
      () => signal.removeEventListener("abort", onAbort),
      () => signal.removeEventListener("abort", onAbort),
    );
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    this.ws.on("open", () => observer.opened());
    this.ws.on("message", (frame: Buffer) => {
      observer.received(frame.byteLength);
      this.onFrame(frame);
    });
    this.ws.on("error", (err) => this.onSocketError(err));
    this.ws.on("close", (code: number, reason: Buffer) => this.onClose(code, reason.toString()));
  }

  get isOpen(): boolean {
    return this.phase === "joined" && this.ws.readyState === WebSocket.OPEN;
  }

  listen(events: SeatEvents): () => void {
    this.events = events;
    return () => {
      if (this.events === events) this.events = NO_EVENTS;
    };
  }

  /** In the view, and seen there since the latest patch this seat could not read (it may have removed it). */
  inView(id: string): boolean {
    return this.view.seenAt(id) > this.membershipChangedAt;
  }

  aliveOf(id: string): boolean | undefined {
    return this.view.aliveOf(id);
  }

  /** Not those that may have left (not seen since the latest patch this seat could not read). */
  living(): readonly string[] {
    return this.view.living(this.membershipChangedAt);
  }

  send(type: string | number, payload: unknown): void {
    if (this.isOpen) this.ws.send(roomData(type, payload));
  }

  drop(reason: string): void {
    if (!this.isOpen) return;
    this.dropReason = reason;
    this.ws.close(CloseCode.MAY_TRY_RECONNECT, reason);
  }

  leave(): Promise<void> {
    if (!this.isOpen) {
      this.close();
      return Promise.resolve();
    }
    const left = new Promise<void>((resolve) => this.leaving.push(resolve));
    this.ws.send(LEAVE);
    return left;
  }

  close(): void {
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else if (this.ws.readyState === WebSocket.OPEN) this.ws.close();
  }

  targetRefused(id: string): void {
    this.view.forget(id);
  }

  // ---- frames ----

  private onFrame(frame: Buffer): void {
    const code = frame[0] & CODE_MASK;
    try {
      switch (code) {
        case Protocol.ROOM_STATE_PATCH:
          // only counted (observer.received); a patch not followed by a round message was a
          // join, leave, drop or reconnect
          this.notePendingPatch();
          this.patchAt = performance.now();
          if ((frame[0] & ~CODE_MASK & ~TIMED & ~UNRELIABLE) !== 0) this.unknownModifier(frame[0]);
          return;
        case Protocol.ROOM_DATA:
          return this.onData(frame);
      }
      this.notePendingPatch();
      switch (code) {
        case Protocol.JOIN_ROOM:
          return this.onJoin(frame);
        case Protocol.ROOM_STATE:
          if ((frame[0] & ~CODE_MASK & ~TIMED) !== 0) this.unknownModifier(frame[0]);
          return this.view.applyState(readState(frame, stateOffset(frame)));
        case Protocol.ERROR:
          return this.onErrorFrame(frame);
        case Protocol.LEAVE_ROOM:
          // the room asks the client to leave: the SDK answers with a consented leave
          if (this.isOpen) this.ws.send(LEAVE);
          return;
        default:
          this.ctx.protocolError(`code:${code}`, { room: this.roomId, byte: frame[0] });
      }
    } catch (err) {
      this.ctx.protocolError(`undecodable:${code}`, { room: this.roomId, error: String(err) });
    }
  }

  /** A patch that was not followed by its round message was a membership change. */
  private notePendingPatch(): void {
    if (this.patchAt >= 0) this.membershipChangedAt = this.patchAt;
    this.patchAt = -1;
  }

  private unknownModifier(byte: number): void {
    this.ctx.protocolError(`modifier:${byte & ~CODE_MASK}`, { room: this.roomId, byte });
  }

  private onData(frame: Buffer): void {
    if (frame[0] !== Protocol.ROOM_DATA) this.unknownModifier(frame[0]);
    const { type, offset } = readDataType(frame);
    if (type === Msg.round) {
      // the patch before it was the round's own: what it changed, the round message says
      this.patchAt = -1;
      return this.events.round(this.view.roundOf(frame, offset) as RoundMessage);
    }
    this.notePendingPatch();
    if (type === Msg.error) return this.events.error(readPayload(frame, offset) as ErrorMessage);
    this.events.unexpected(type);
  }

  private onJoin(frame: Buffer): void {
    if (this.phase !== "joining") return this.ctx.protocolError("join_twice", { room: this.roomId });
    if (frame[0] !== Protocol.JOIN_ROOM) this.unknownModifier(frame[0]);
    const join = readJoin(frame);
    if (join.serializerId !== "schema") this.ctx.protocolError(`serializer:${join.serializerId}`);
    else if (join.reflection.byteLength > 0 && !sameSchema(join.reflection))
      this.ctx.protocolError("schema_reflection", { room: this.roomId });
    for (const tag of join.sections) this.ctx.protocolError(`handshake_section:${tag}`, { room: this.roomId });
    this.reconnectionToken = `${this.roomId}:${join.reconnectionToken}`;
    this.ws.send(JOIN_ACK);
    this.phase = "joined";
    this.settle?.resolve(this);
    this.settle = null;
  }

  private onErrorFrame(frame: Buffer): void {
    const { code, message } = readError(frame);
    if (this.phase === "joining") {
      this.failJoin(Object.assign(new Error(message), { code }));
      return;
    }
    this.events.roomError(code, message);
  }

  // ---- the socket ----

  private onSocketError(err: Error): void {
    if (this.phase === "joining") this.failJoin(err);
    else if (this.phase === "joined") this.events.roomError(undefined, err.message);
  }

  private failJoin(err: unknown): void {
    if (this.settle === null) return;
    this.settle.reject(err);
    this.settle = null;
    this.close();
  }

  private onClose(code: number, reason: string): void {
    const was = this.phase;
    this.phase = "closed";
    this.ctx.views.give(this.key);
    // closed before the room let it in: the SDK fails the join with the close code
    this.failJoin(Object.assign(new Error(`closed before joining (${code}) ${reason}`), { code }));
    for (const resolve of this.leaving.splice(0)) resolve();
    if (was !== "joined") return;
    if (DROP_CODES.includes(code)) this.events.dropped(code, this.dropReason ?? reason);
    this.events.ended(code);
  }
}
