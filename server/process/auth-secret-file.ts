/**
 * The AUTH_SECRET `npm start` gives its game process when none is set: generated once into
 * `<dir>/auth-secret` (mode 0600, 32 random bytes as hex) and read from there ever after, so that
 * players' tokens and the rooms' secrets (server/game/round/room-secret.ts) outlive a restart of
 * the game process: a restored match takes its players back. Throws when the file cannot be read
 * or written (a start without a stable secret would lose every match at the next restart).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export function authSecretFile(dir: string): { secret: string; path: string } {
  const path = join(dir, "auth-secret");
  mkdirSync(dir, { recursive: true });
  try {
    // 'wx': the first start writes it; a second one racing it reads the winner's
    writeFileSync(path, randomBytes(32).toString("hex") + "\n", { flag: "wx", mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const secret = readFileSync(path, "utf8").trim();
  if (secret.length < 32)
    throw new Error(`${path} holds no usable secret (fewer than 32 characters): delete it to get a new one`);
  return { secret, path };
}
