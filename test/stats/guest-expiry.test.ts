import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { deriveStats } from "../../shared/stats.ts";
import { SqliteStore } from "../../server/stats/store/sqlite-store.ts";
import { startStatsService } from "../../server/stats/service.ts";
import { createStatsClient } from "../../server/stats/client.ts";

const dir = mkdtempSync(join(tmpdir(), "skirmish-expiry-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const idsIn = (path: string) => {
  const db = new DatabaseSync(path, { readOnly: true });
  const ids = (db.prepare("SELECT id FROM player_stats ORDER BY id").all() as { id: string }[]).map((r) => r.id);
  db.close();
  return ids;
};

describe("guest stats expiry", () => {
  it("deletes guest rows unread for the TTL, keeps recently read guests and every non-guest id", async () => {
    const path = join(dir, "store.db");
    const store = new SqliteStore(path);
    await store.get("p_old");
    await store.get("npc_goblin_1");
    const { id: _id, version: _v, ...fields } = deriveStats("p_written");
    await store.put("p_written", { ...fields, attack: fields.attack + 1 });
    const t0 = Date.now();
    expect(await store.expireGuests(1000, t0)).toBe(0);
    await store.get("p_recent");
    expect(await store.expireGuests(1000, t0 + 1500)).toBe(2);
    expect(idsIn(path)).toEqual(["npc_goblin_1", "p_recent"]);
    // gone from the cache too: the store holds nothing its database does not
    expect(await store.peek("p_old")).toBeUndefined();
    expect(await store.get("p_old")).toEqual(deriveStats("p_old"));
    await store.close();
  });

  it("the service expires them on its own (STATS_GUEST_TTL_S) and counts it", async () => {
    const path = join(dir, "service.db");
    const svc = await startStatsService({ port: 0, token: "t", db: path, guestTtlS: 1 });
    const client = createStatsClient(svc.rpcUrl, { token: "t" });
    try {
      await client.get("p_visitor");
      await client.get("npc_wolf_2");
      expect(idsIn(path)).toEqual(["npc_wolf_2", "p_visitor"]);
      await expect.poll(() => svc.counters().guestRowsExpired, { timeout: 10_000, interval: 100 }).toBe(1);
      expect(idsIn(path)).toEqual(["npc_wolf_2"]);
      expect(await (await fetch(`${svc.httpUrl}/metrics`)).text()).toMatch(/^stats_guest_rows_expired_total 1$/m);
    } finally {
      await client.close();
      await svc.close();
    }
  });
});
