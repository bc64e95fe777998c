import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, describe, expect, it } from "vitest";
import { openSqlite } from "../../server/sqlite/open-sqlite.ts";
import { prerequisite } from "../prerequisite.ts";

const dir = mkdtempSync(join(tmpdir(), "open-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SCHEMA =
  "CREATE TABLE IF NOT EXISTS things (id TEXT PRIMARY KEY, size INTEGER NOT NULL, added INTEGER NOT NULL DEFAULT 7)";
const ADDED = [{ table: "things", column: "added", definition: "INTEGER NOT NULL DEFAULT 0" }];

/** The files this process holds open (Linux). */
function openFiles(): string[] {
  return readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      return [readlinkSync(`/proc/self/fd/${fd}`)];
    } catch {
      return []; // closed while listing
    }
  });
}

function pragma(db: DatabaseSync, name: string): unknown {
  return Object.values(db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown>)[0];
}

describe("openSqlite", () => {
  it("creates the file and its folder, in WAL with synchronous NORMAL, incremental vacuum when asked", () => {
    const path = join(dir, "new/nested/a.db");
    const db = openSqlite(path, { schema: SCHEMA, incrementalVacuum: true });
    expect(pragma(db, "journal_mode")).toBe("wal");
    expect(pragma(db, "synchronous")).toBe(1); // NORMAL
    expect(pragma(db, "auto_vacuum")).toBe(2); // INCREMENTAL
    db.close();
    const plain = openSqlite(join(dir, "b.db"), { schema: SCHEMA });
    expect(pragma(plain, "auto_vacuum")).toBe(0);
    plain.close();
  });

  it("adds a column a table from an older release lacks (old rows get its default); opening again changes nothing", () => {
    const path = join(dir, "old.db");
    const old = new DatabaseSync(path);
    old.exec("CREATE TABLE things (id TEXT PRIMARY KEY, size INTEGER NOT NULL)");
    old.prepare("INSERT INTO things (id, size) VALUES (?, ?)").run("a", 3);
    old.close();
    for (let open = 0; open < 2; open++) {
      const db = openSqlite(path, { schema: SCHEMA, addedColumns: ADDED });
      expect(db.prepare("SELECT id, size, added FROM things").all()).toEqual([{ id: "a", size: 3, added: 0 }]);
      db.close();
    }
  });

  it("a new table gets the schema's own definition, not the added column's", () => {
    const db = openSqlite(":memory:", { schema: SCHEMA, addedColumns: ADDED });
    db.prepare("INSERT INTO things (id, size) VALUES (?, ?)").run("b", 1);
    expect(db.prepare("SELECT added FROM things").get()).toEqual({ added: 7 });
    expect(pragma(db, "journal_mode")).toBe("memory");
    db.close();
  });

  const procFds = prerequisite(existsSync("/proc/self/fd"), "open-file check: no /proc/self/fd (a Linux procfs)");
  it.skipIf(!procFds)("a schema that cannot be applied throws and leaves no file open", () => {
    const path = join(dir, "bad.db");
    expect(() => openSqlite(path, { schema: "CREATE TABLE oops (" })).toThrow(/syntax error|incomplete input/);
    expect(openFiles().filter((f) => f.startsWith(path))).toEqual([]);
  });
});
