/**
 * Every client frame passes undecodableType (frame-check.ts) before Colyseus decodes it
 * (Room#_onMessage, which Colyseus binds per client at join: an instance property shadows it). An
 * undecodable frame is counted, logged rate-limited, answered once with `bad_frame`, and after
 * MAX_UNDECODABLE_FRAMES its client is dropped; other clients never notice.
 */
import { CloseCode, type Client } from "@colyseus/core";
import type { ErrorMessage } from "../../../shared/protocol.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import type { GameMetrics } from "../metrics.ts";
import { pidOf } from "./arena-seats.ts";
import { undecodableType } from "./frame-check.ts";

/** A client that sends this many frames Colyseus cannot decode is dropped. */
const MAX_UNDECODABLE_FRAMES = 10;

export interface ScreenDeps {
  metrics: GameMetrics;
  limitedLog: LimitedLog;
  /** answers a client with an error (counted) */
  refuse(client: Client, error: ErrorMessage): void;
}

export class FrameScreen {
  /** per client: frames refused as undecodable */
  private readonly undecodable = new Map<string, number>();
  private readonly room: { readonly roomId: string };
  private readonly deps: ScreenDeps;

  /** Screens `room`'s client frames from here on. */
  constructor(room: { readonly roomId: string }, deps: ScreenDeps) {
    this.room = room;
    this.deps = deps;
    const screened = room as unknown as { _onMessage(client: Client, frame: Uint8Array | undefined): void };
    const decode = screened._onMessage;
    screened._onMessage = (client, frame) => {
      const reason = frame === undefined ? null : undecodableType(frame);
      if (reason === null) return decode.call(room, client, frame);
      this.refuse(client, reason);
    };
  }

  /** the client left: its count goes */
  forget(sessionId: string): void {
    this.undecodable.delete(sessionId);
  }

  private refuse(client: Client, reason: string): void {
    const n = (this.undecodable.get(client.sessionId) ?? 0) + 1;
    this.undecodable.set(client.sessionId, n);
    this.deps.metrics.errors.inc("undecodable_frame");
    if (n === 1) this.deps.refuse(client, { code: "bad_frame", message: `undecodable frame: ${reason}` });
    this.deps.limitedLog("warn", "undecodable_frame", "undecodable client frame", {
      room: this.room.roomId,
      pid: pidOf(client),
      reason,
      frames: n,
    });
    if (n === MAX_UNDECODABLE_FRAMES) {
      this.deps.metrics.errors.inc("undecodable_drop");
      client.leave(CloseCode.WITH_ERROR, "too many undecodable frames");
    }
  }
}
