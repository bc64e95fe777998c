/** What every arena room of one game server is given (arena-room.ts's arenaRoomClass binds it). */
import type { StatsClient } from "../../stats/client.ts";
import type { TokenVerifier } from "../auth/token-verifier.ts";
import type { RoundJournal } from "../journal/round-journal.ts";
import type { GameMetrics } from "../metrics.ts";
import type { GameConfig } from "../config.ts";
import type { Logger } from "../../observability/log.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";
import type { ArenaRoom } from "./arena-room.ts";
import type { PlayerRegistry } from "./player-registry.ts";
import type { RoomAudience } from "./room-audience.ts";
import type { RestorePlan } from "./restore-plan.ts";
import type { SeatCredentials } from "./seat-credential.ts";
import type { RoomDurability } from "./room-durability.ts";
import type { TickClock } from "./tick-clock.ts";

export interface ArenaDeps {
  config: GameConfig;
  /** the server key: room secrets derive from it (round/room-secret.ts) */
  authSecret: string;
  /** the one token check (auth/token-verifier.ts): matchmaking, and reconnections here */
  verifyToken: TokenVerifier;
  statsClient: StatsClient;
  journal: RoundJournal | null;
  metrics: GameMetrics;
  log: Logger;
  /** for what clients can make happen per frame or request */
  limitedLog: LimitedLog;
  players: PlayerRegistry;
  /** live rooms, for the rooms/ccu gauges and the summary */
  rooms: Set<ArenaRoom>;
  /** rooms being restored from the journal, by id: a room created under such an id takes its plan (restore-rooms.ts) */
  restoring: Map<string, RestorePlan>;
  /** what verifies reconnection tokens in the journal (seat-credential.ts) */
  credentials: SeatCredentials;
  /** a cluster's leases and checkpoints, so that another process can adopt the room (room-durability.ts) */
  durability?: RoomDurability;
  /** who played or watched in each room: who may read its replay */
  audience: RoomAudience;
  /** the process's one tick clock: every room's clock runs on it (tick-clock.ts) */
  tickClock: TickClock;
}
