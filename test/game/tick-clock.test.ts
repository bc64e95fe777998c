// The process's one tick clock (server/game/room/tick-clock.ts): rooms that start at different
// moments tick in the same turns, each tick counts once, and the clock stops with its last room.
import { describe, expect, it, vi } from "vitest";
import { TickClock } from "../../server/game/room/tick-clock.ts";

/** A room's fixed timestep as arena-room.ts keeps it: ticks due from `start`, minus those run. */
class Timestep {
  done = 0;
  private readonly clock: TickClock;
  readonly start: number;
  constructor(clock: TickClock) {
    this.clock = clock;
    this.start = clock.alignedStart(0);
  }
  due(now: number): number {
    const due = Math.floor((now - this.start) / this.clock.periodMs) - this.done;
    this.done += due;
    return due;
  }
}

describe("TickClock", () => {
  it("runs rooms that started at different moments in the same turns, one tick each", async () => {
    const clock = new TickClock(50);
    const turns: { a: number; b: number | null }[] = [];
    let a: Timestep | null = null;
    let b: Timestep | null = null;
    const stop = clock.subscribe(() => {
      const now = performance.now();
      if (a !== null) turns.push({ a: a.due(now), b: b === null ? null : b.due(now) });
      // b starts during a tick (as a room does on a join): the worst moment for a timestep that
      // is not aligned to the grid, whose ticks would then fall due right at the clock's
      if (b === null && turns.length === 3) b = new Timestep(clock);
    });
    a = new Timestep(clock);
    await vi.waitFor(() => expect(turns.filter((t) => t.b !== null).length).toBeGreaterThanOrEqual(10), {
      timeout: 10_000,
    });
    stop();
    const both = turns.filter((t) => t.b !== null);
    // every turn ticks both rooms alike (several ticks in one turn only when the loop was late)
    for (const t of both) expect(t.b).toBe(t.a);
    expect(both.every((t) => t.a >= 1)).toBe(true);
  });

  it("calls no one after the last room leaves, and starts again with the next", async () => {
    const clock = new TickClock(100);
    let calls = 0;
    const stop = clock.subscribe(() => calls++);
    await vi.waitFor(() => expect(calls).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    stop();
    const after = calls;
    let again = 0;
    const stopAgain = clock.subscribe(() => again++);
    await vi.waitFor(() => expect(again).toBeGreaterThanOrEqual(2), { timeout: 10_000 });
    stopAgain();
    expect(calls).toBe(after);
  });
});
