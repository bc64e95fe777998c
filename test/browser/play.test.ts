import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { deriveStats, type StatFields } from "../../shared/stats.ts";
import { STATS_TOKEN, startGame, startStats, waitFor } from "../game/helpers.ts";
import { describeChromium, launchChromium, screenshot, watchErrors } from "./chromium.ts";

const NPCS = ["npc_goblin_1", "npc_wolf_2", "npc_orc_3"];

// generous: a page load builds the bundle once, and a loaded 2-core machine stretches every step
describeChromium("the play page in Chromium", { timeout: 90_000 }, () => {
  let stats: StatsService;
  let game: GameServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  /** Rewrites an entity's stats in the stats service; the next round fetches them. */
  async function setStats(id: string, change: Partial<StatFields>): Promise<void> {
    const { id: _id, version: _v, ...fields } = deriveStats(id);
    const res = await fetch(`${stats.httpUrl}/players/${id}/stats`, {
      method: "PUT",
      headers: { authorization: `Bearer ${STATS_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ ...fields, ...change }),
    });
    expect(res.status, await res.text()).toBe(200);
  }

  const me = async () => (await page.locator("body").getAttribute("data-me")) ?? "";
  const row = (id: string) => page.locator(`li.entity[data-id="${id}"]`);
  const hpOf = async (id: string) => Number(await row(id).getAttribute("data-hp"));
  const roundShown = async () => Number((await page.locator("#round").textContent())?.replace(/\D/g, "") || 0);

  beforeAll(async () => {
    stats = await startStats();
    // every blow does 1 damage (attack 0): nobody dies unless a test wants it
    for (const id of NPCS) await setStats(id, { attack: 0 });
    // 300 ms rounds: a ~150 ms click often spans a round boundary
    game = await startGame(stats.rpcUrl, { tickHz: 50, roundTicks: 15, roundDeadlineMs: 150 });
    browser = await launchChromium();
    // the pages are bundled on the first request in this process: done here, so each scenario's time is its own
    expect((await fetch(`${game.httpUrl}/play.js`)).status).toBe(200);
    context = await browser.newContext({ viewport: { width: 1024, height: 800 } });
    page = await context.newPage();
    watchErrors(page, errors);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await game?.close();
    await stats?.close();
  });

  it("loads, joins, and an Attack click on a named target lowers that target's hp", async () => {
    await page.goto(`${game.httpUrl}/?name=Ann`);
    await page.locator("li.entity.me").waitFor();
    const id = await me();
    expect(id).toMatch(/^p_/);
    await setStats(id, { attack: 0 });
    await expect.poll(() => page.locator("#you").textContent()).toBe("you are Ann");
    const orc = row("npc_orc_3");
    await expect.poll(() => orc.locator(".label").textContent()).toBe("Orc 3");
    await expect.poll(() => page.locator("#countdown").textContent()).toMatch(/^next in \d+\.\d s$/);
    await expect.poll(() => page.locator("#ping").textContent(), { timeout: 10_000 }).toMatch(/^ping \d+ ms$/);

    const before = await hpOf("npc_orc_3");
    // (the "next round: attack Orc 3" label lasts until the round resolves it: too short to poll for)
    await orc.getByRole("button", { name: "Attack Orc 3" }).click();
    await page
      .locator("#log")
      .getByText(/Ann hits Orc 3 for \d+/)
      .first()
      .waitFor({ timeout: 10_000 });
    await expect.poll(() => hpOf("npc_orc_3")).toBeLessThan(before);
    // names, not ids, everywhere a person reads
    expect(await page.locator("#log").textContent()).not.toMatch(/npc_|p_/);
    await screenshot(page, "play-attack");
    expect(errors).toEqual([]);
  });

  it("registers a held (~150 ms) click every time, 20 of 20, across round boundaries", async () => {
    const button = row("npc_orc_3").getByRole("button", { name: "Attack Orc 3" });
    await button.waitFor();
    const box = (await button.boundingBox())!;
    const accepted = game.metrics.intentsAccepted.get();
    let spanned = 0;
    for (let i = 0; i < 20; i++) {
      const round = await roundShown();
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      await page.waitForTimeout(150);
      await page.mouse.up();
      if ((await roundShown()) !== round) spanned++;
      await page.waitForTimeout(40);
    }
    await waitFor("20 accepted intents", () => game.metrics.intentsAccepted.get() - accepted >= 20, 5000).catch(
      () => {},
    );
    expect(game.metrics.intentsAccepted.get() - accepted).toBe(20);
    // the clicks did land while the table was being updated under the pointer
    expect(spanned).toBeGreaterThan(0);
    expect(await page.locator("#log .error").count()).toBe(0);
  });

  it("acts on hotkeys (1-9 picks a target, A attacks it, D defends) and on Enter on a focused button", async () => {
    await page.locator("body").click({ position: { x: 5, y: 5 } });
    await page.keyboard.press("2"); // rows in id order: Goblin 1, Orc 3, Wolf 2
    await expect.poll(() => row("npc_orc_3").getAttribute("class")).toContain("selected");
    await page.keyboard.press("a");
    await page
      .locator("#log")
      .getByText(/Ann hits Orc 3/)
      .first()
      .waitFor({ timeout: 10_000 });
    await page.keyboard.press("d");
    await page
      .locator("#log")
      .getByText(/Ann defends/)
      .first()
      .waitFor({ timeout: 10_000 });
    // keyboard focus on a button survives the rounds that update its row: Enter still sends
    const button = row("npc_orc_3").getByRole("button", { name: "Attack Orc 3" });
    await button.focus();
    const round = await roundShown();
    await expect.poll(roundShown).toBeGreaterThan(round + 1);
    expect(await button.evaluate((b) => b === b.ownerDocument.activeElement)).toBe(true);
    const accepted = game.metrics.intentsAccepted.get();
    await page.keyboard.press("Enter");
    await expect.poll(() => game.metrics.intentsAccepted.get()).toBe(accepted + 1);
    await screenshot(page, "play-hotkeys");
  });

  it("keeps the same entity across a reload, with no ghost left behind", async () => {
    const id = await me();
    const name = await row(id).locator(".label").textContent();
    await page.reload();
    await page.locator("li.entity.me").waitFor();
    expect(await me()).toBe(id);
    expect(await row(id).locator(".label").textContent()).toBe(name);
    await page.locator("#log").getByText(/#\d+/).first().waitFor({ timeout: 10_000 });
    expect(await page.locator("li.entity").count()).toBe(NPCS.length + 1);
    const players = [...game.rooms].flatMap((r) =>
      [...r.state.entities.values()].filter((e) => e.kind === "player").map((e) => e.id),
    );
    expect(players).toEqual([id]);
    await screenshot(page, "play-reloaded");
  });

  it("shows a dropped connection, then comes back to the same entity by itself", async () => {
    const id = await me();
    await page.evaluate(`(() => {
      const banner = document.getElementById("banner");
      window.sawOffline = false;
      new MutationObserver(() => { if (banner.classList.contains("offline")) window.sawOffline = true; }).observe(banner, { attributes: true });
    })()`);
    const room = [...game.rooms].find((r) => r.state.entities.has(id))!;
    const client = room.clients.find((c) => (c.userData as { pid?: string }).pid === id)!;
    // an abrupt drop (no close handshake), as when a network goes away
    (client.ref as unknown as { terminate(): void }).terminate();
    await expect.poll(() => page.evaluate("window.sawOffline"), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.locator("#banner").getAttribute("class"), { timeout: 15_000 }).toBe("");
    expect(await me()).toBe(id);
    expect(await page.locator("#defend").isDisabled()).toBe(false);
    const players = [...game.rooms].flatMap((r) =>
      [...r.state.entities.values()].filter((e) => e.kind === "player").map((e) => e.id),
    );
    expect(players).toEqual([id]);
    // and it acts again: the intent reaches the server
    const accepted = game.metrics.intentsAccepted.get();
    await page.keyboard.press("d");
    await expect.poll(() => game.metrics.intentsAccepted.get()).toBe(accepted + 1);
  });

  it("shows every action at 390 px wide, each at least 40 px tall", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const buttons = page.locator("#actions button, li.entity button.attack");
    expect(await buttons.count()).toBe(2 + NPCS.length);
    for (const b of await buttons.all()) {
      const box = (await b.boundingBox())!;
      expect(box.x).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      expect(box.height).toBeGreaterThanOrEqual(40);
    }
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await screenshot(page, "play-390px");
  });

  it("says 'you died — back in N rounds' and disables every action while dead", async () => {
    const id = await me();
    await setStats(id, { maxHp: 1, attack: 0 });
    const banner = page.locator("#banner.dead");
    await banner.waitFor({ timeout: 20_000 });
    expect(await banner.textContent()).toMatch(/^You died — back in [1-3] rounds?$/);
    for (const b of await page.locator("#actions button, li.entity button.attack").all())
      expect(await b.isDisabled()).toBe(true);
    const accepted = game.metrics.intentsAccepted.get();
    await page.keyboard.press("d");
    await page.waitForTimeout(100);
    expect(game.metrics.intentsAccepted.get()).toBe(accepted);
    expect(await page.locator("#log .error").count()).toBe(0);
    await screenshot(page, "play-dead");
    expect(errors).toEqual([]);
  });
});
