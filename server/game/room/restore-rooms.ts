/**
 * Restore before listen: every room the journal says was live when this process's predecessor
 * stopped (crashed, was killed, or handed its rooms over on SIGTERM) is created again under its
 * own id, from its plan (restore-plan.ts), before the server accepts a connection. A room that
 * cannot be restored is refused loudly (one log line with the reason, counted) and marked
 * finished so it is not tried again; the others still restore, and the process starts.
 *
 * Only ids from the journal reach `handleCreateRoom` here, and a room takes a restore plan only
 * when one waits under its id (ArenaDeps.restoring): no client can ask for a restore or pick an id.
 */
import { matchMaker } from "@colyseus/core";
import { ROOM_NAME } from "../../../shared/protocol.ts";
import type { Logger } from "../../observability/log.ts";
import type { RoundJournal } from "../journal/round-journal.ts";
import type { GameMetrics } from "../metrics.ts";
import { planRestore, type RestorePlan } from "./restore-plan.ts";

export interface RestoreReport {
  restored: number;
  refused: number;
  ms: number;
}

export async function restoreRooms(
  journal: RoundJournal,
  restoring: Map<string, RestorePlan>,
  metrics: GameMetrics,
  log: Logger,
): Promise<RestoreReport> {
  const started = performance.now();
  let restored = 0;
  let refused = 0;
  const refuse = (room: string, kind: string, reason: string) => {
    refused++;
    metrics.roomsRefused.inc(kind);
    log.error("room not restored", { room, reason });
    journal.rooms.finished(room);
  };
  for (const room of journal.rooms.live()) {
    const verdict = await planRestore({
      room,
      last: () => journal.last(room.room),
      members: () => journal.rooms.members(room.room),
    });
    if (!verdict.ok) {
      refuse(room.room, verdict.kind, verdict.reason);
      continue;
    }
    try {
      await restoreRoom(verdict.plan, restoring);
      restored++;
      metrics.roomsRestored.inc("restart");
    } catch (err) {
      refuse(room.room, "create_failed", `creating it failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  journal.commit();
  const ms = performance.now() - started;
  if (restored + refused > 0) {
    metrics.restoreDuration.observe(ms);
    log.info("rooms restored from the journal", { restored, refused, ms: Math.round(ms) });
  }
  return { restored, refused, ms };
}

/**
 * Creates the room of `plan` under its own id in this process (its onCreate takes the plan from
 * `restoring`). Rejects, with the plan withdrawn, when Colyseus cannot create it.
 */
export async function restoreRoom(plan: RestorePlan, restoring: Map<string, RestorePlan>): Promise<void> {
  restoring.set(plan.roomId, plan);
  try {
    await matchMaker.handleCreateRoom(ROOM_NAME, {}, undefined, plan.roomId);
  } finally {
    restoring.delete(plan.roomId);
  }
}
