// The row form of PlayerStats in the SQL stores (SQLite, PostgreSQL): one snake_case column per
// key, in PLAYER_STATS_KEYS order, derived so that a new stat is not spelled out again here. The
// tables themselves are created by each store's schema (PostgreSQL: an append-only migration), which
// a new stat has to extend on purpose.
import { PLAYER_STATS_KEYS, STAT_FIELDS, type PlayerStats } from "../../../shared/stats.ts";

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());

/** The column of each PLAYER_STATS_KEYS entry, same order. */
export const COLUMN_NAMES: readonly string[] = PLAYER_STATS_KEYS.map(snake);
/** "id, level, max_hp, …, version" for SELECT and INSERT lists */
export const COLUMNS = COLUMN_NAMES.join(", ");
/** the columns of the stat fields only (no id, no version), STAT_FIELDS order */
export const STAT_COLUMNS: readonly string[] = STAT_FIELDS.map(snake);

export type StatsRow = Readonly<Record<string, unknown>>;

export function fromRow(r: StatsRow): PlayerStats {
  const s: Record<string, unknown> = {};
  for (let i = 0; i < PLAYER_STATS_KEYS.length; i++) s[PLAYER_STATS_KEYS[i]] = r[COLUMN_NAMES[i]];
  return s as unknown as PlayerStats;
}

/** The values of a row, in COLUMNS order (statement parameters). */
export function rowValues(s: PlayerStats): (string | number)[] {
  return PLAYER_STATS_KEYS.map((k) => s[k]);
}
