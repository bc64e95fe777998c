import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { join, leaveAll, startGame, startStats, waitFor, type Player } from "../game/helpers.ts";
import { describeChromium, launchChromium, screenshot, watchErrors } from "./chromium.ts";

// generous: a page load builds the bundle once, and a loaded 2-core machine stretches every step
describeChromium("spectating and the replay viewer in Chromium", { timeout: 90_000 }, () => {
  let stats: StatsService;
  let game: GameServer;
  let browser: Browser;
  let ann: Player;
  const errors: string[] = [];

  beforeAll(async () => {
    stats = await startStats();
    // one player fills the arena: the spectator must not need a player's seat
    game = await startGame(stats.rpcUrl, { tickHz: 50, roundTicks: 10, roundDeadlineMs: 100, maxPlayers: 1 });
    ann = await join(game, "Ann");
    browser = await launchChromium();
    // the pages are bundled on the first request in this process: done here, so each scenario's time is its own
    expect((await fetch(`${game.httpUrl}/play.js`)).status).toBe(200);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await leaveAll(ann ? [ann] : []);
    await game?.close();
    await stats?.close();
  });

  async function open(path: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 800, height: 900 } });
    watchErrors(page, errors);
    await page.goto(`${game.httpUrl}${path}`);
    return page;
  }

  it("lists the arena and watches it: rounds go by, no entity, no actions, an intent is refused", async () => {
    const lobby = await open("/");
    await lobby.locator("#rooms summary").click();
    await lobby.locator("#room-list").getByText(`watch ${ann.room.roomId}`).waitFor();
    await lobby.close();

    const arenas = game.rooms.size; // the lobby page joined an arena of its own: Ann's is full
    const page = await open(`/?watch=${ann.room.roomId}`);
    await page.locator("#banner.watching").waitFor();
    await page.locator(`li.entity[data-id="${ann.id}"]`).waitFor();
    expect(await page.locator("li.entity").count()).toBe(4); // three NPCs and Ann: no row for the spectator
    expect(await page.locator("li.entity.me").count()).toBe(0);
    expect(await page.locator("#actions").isVisible()).toBe(false);
    expect(await page.locator("li.entity button").count()).toBe(0);
    const round = async () => Number((await page.locator("#round").textContent())?.replace(/\D/g, "") || 0);
    const first = await round();
    await expect.poll(round, { timeout: 10_000 }).toBeGreaterThan(first + 1);
    await page.locator("#log").getByText(/#\d+ /).first().waitFor();

    // the page offers no action; one sent anyway through the SDK room is refused by the server
    await page.evaluate(`window.skirmish.room.send("intent", { seq: 1, action: "defend" })`);
    await page
      .locator("#log .error")
      .getByText(/refused \(spectator\)/)
      .waitFor();
    expect(game.rooms.size).toBe(arenas);
    await screenshot(page, "watch");
    await page.close();
    expect(errors).toEqual([]);
  });

  it("says when the watched arena ended, or never ran, instead of retrying", async () => {
    const bob = await join(game, "Bob"); // Ann's arena is full: Bob opens his own
    const page = await open(`/?watch=${bob.room.roomId}`);
    await page.locator("#banner.watching").waitFor();
    await bob.room.leave();
    await page.locator("#banner.ended").getByText(`Arena ${bob.room.roomId} has ended`).waitFor();
    expect(await page.locator("#connection").textContent()).toBe("arena ended");
    await page.close();

    const nowhere = await open("/?watch=nosucharena");
    await nowhere.locator("#banner.ended").getByText("No arena nosucharena is running").waitFor();
    await nowhere.close();
    expect(errors).toEqual([]);
  });

  it("steps through the recorded match: step, back, play, pause, each round drawn as a table", async () => {
    await waitFor("ten journaled rounds", () => game.journal.count(ann.room.roomId) >= 10, 15_000);
    // a tab that neither played nor watched in the arena holds no token of it: the viewer says whose replay it is
    const stranger = await open(`/replay.html?room=${ann.room.roomId}`);
    await stranger
      .locator("#source.bad")
      .getByText(/for the arena's players and spectators/)
      .waitFor();
    await stranger.close();
    // the tab that watched the arena (its guest token in sessionStorage) replays it
    const page = await open(`/?watch=${ann.room.roomId}`);
    await page.locator("#banner.watching").waitFor();
    await page.goto(`${game.httpUrl}/replay.html?room=${ann.room.roomId}`);
    const shown = async () => Number((await page.locator("body").getAttribute("data-round")) ?? -1);
    await expect.poll(shown, { timeout: 10_000 }).toBe(1);
    expect(await page.locator("li.entity").count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator("#verified").textContent()).toContain("✓");
    await page.getByRole("button", { name: "step forward" }).click();
    await expect.poll(shown).toBe(2);
    await page.getByRole("button", { name: "step forward" }).click();
    await expect.poll(shown).toBe(3);
    await page.getByRole("button", { name: "step back" }).click();
    await expect.poll(shown).toBe(2);
    // the table and log show the journaled round: the same events the players were sent
    const sent = ann.rounds.find((r) => r.round === 2);
    if (sent) expect(await page.locator("#log div").count()).toBe(sent.events.length);

    await page.getByRole("button", { name: "Play" }).click();
    await expect.poll(shown, { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    await page.getByRole("button", { name: "Pause" }).click();
    const paused = await shown();
    await page.waitForTimeout(1200);
    expect(await shown()).toBe(paused);
    await screenshot(page, "replay");
    await page.close();
    expect(errors).toEqual([]);
  });
});
