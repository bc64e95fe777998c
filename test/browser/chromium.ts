/**
 * Debian's Chromium driven by playwright-core, one browser per suite file. Where /usr/bin/chromium
 * is missing the suite is skipped with one line naming the package; under CI (process.env.CI) a
 * missing browser fails the suite instead.
 */
import { existsSync, mkdirSync } from "node:fs";
import { chromium, type Browser, type Page } from "playwright-core";
import { describe } from "vitest";
import { repoFile } from "../game/helpers.ts";
import { prerequisite } from "../prerequisite.ts";

export const CHROMIUM = "/usr/bin/chromium";
const present = existsSync(CHROMIUM);

/** `describe` when Chromium is here, else a skip with one line (under CI its absence fails: test/prerequisite.ts). */
export const describeChromium = prerequisite(present, `browser suites: no ${CHROMIUM} (Debian package chromium)`)
  ? describe
  : describe.skip;

export function launchChromium(): Promise<Browser> {
  if (!present) throw new Error(`${CHROMIUM} is missing (CI=${process.env.CI}): install the Debian package chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // the network is closed here: nothing in the browser may try to reach it
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

/** Screenshots per scenario, for a person to look at (git-ignored). */
export const ARTIFACTS = repoFile("test/artifacts");

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png`, fullPage: true });
}

/** Fails the test on any uncaught error in the page. */
export function watchErrors(page: Page, errors: string[]): void {
  page.on("pageerror", (err) => errors.push(err.message));
}
