// The one interface of a player-stats store. Two implementations: SqliteStore (node:sqlite, the
// embedded default, one process) and PostgresStore (pg, shared by stateless replicas). Both pass
// one contract suite (test/stats/store-contract.test.ts).
//
// The contract (after open() succeeded):
// - get / getMany: an id never seen is created on first read with deriveStats(id) (version 1);
//   getMany answers in the order asked, duplicates included.
// - peek: the stored row or undefined; never creates anything.
// - put: replaces the stat fields; the version is bumped when anything changes (a never-read id counts
//   as its derived stats at version 1), a write that changes nothing answers the current row and
//   creates nothing. With expectedVersion, a mismatch (409) changes nothing and answers the current
//   row. Concurrent puts with the same expectedVersion: exactly one wins.
// - Bad input (invalid id, a stat field missing, not an integer or out of STAT_LIMITS) rejects
//   with a StoreInputError naming the field, and changes nothing.
// - Every method is async; a store failure (database gone, statement timeout) rejects with the
//   driver's error: the caller answers it as a server error and counts it.
import { validateStatFields, isValidStatsId, type PlayerStats, type StatFields } from "../../../shared/stats.ts";

export type PutResult = { ok: true; stats: PlayerStats } | { ok: false; current: PlayerStats };

export interface StatsStore {
  /** "sqlite" | "postgres": for logs and /healthz */
  readonly kind: string;
  /**
   * Makes the store ready to serve: connects and creates or migrates the schema. One attempt,
   * idempotent; rejects with the reason (the caller retries: openStore). SQLite is ready once built.
   */
  open(): Promise<void>;
  peek(id: string): Promise<PlayerStats | undefined>;
  get(id: string): Promise<PlayerStats>;
  getMany(ids: readonly string[]): Promise<PlayerStats[]>;
  put(id: string, fields: StatFields, expectedVersion?: number): Promise<PutResult>;
  /**
   * Deletes the guest rows (player ids, `p_…`) nobody read for `ttlMs` and answers how many went;
   * other ids never expire. Optional: a store without it keeps every row.
   */
  expireGuests?(ttlMs: number, nowMs?: number): Promise<number>;
  close(): Promise<void>;
}

/** A put the store refused before touching anything; `field` names the first bad field. */
export class StoreInputError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = "StoreInputError";
    this.field = field;
  }
}

/** The checks every store runs on a put (the service runs the same ones on the request body first). */
export function checkPut(id: string, fields: StatFields, expectedVersion: number | undefined): StatFields {
  if (!isValidStatsId(id)) throw new StoreInputError("id", "id must match [A-Za-z0-9_-]{1,64}");
  const checked = validateStatFields(
    expectedVersion === undefined ? fields : { ...fields, version: expectedVersion },
    id,
  );
  if (!checked.ok) throw new StoreInputError(checked.field, checked.message);
  const { version: _expected, ...clean } = checked.value;
  return clean;
}
