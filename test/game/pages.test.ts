import { beforeAll, describe, expect, it } from "vitest";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { GameServer } from "../../server/game/server.ts";
import type { StatsService } from "../../server/stats/service.ts";
import { pickEncoding } from "../../server/game/http/page-route.ts";
import { closeAfterAll, startGame, startStats } from "./helpers.ts";

describe("the browser pages' files", () => {
  let stats: StatsService;
  let game: GameServer;
  beforeAll(async () => {
    stats = await startStats();
    game = await startGame(stats.rpcUrl);
  });
  closeAfterAll(() => ({ game, stats }));

  /** node's fetch always asks for compression and decodes it; raw bytes need our own header */
  async function get(path: string, headers: Record<string, string> = {}) {
    const { request } = await import("node:http");
    return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>(
      (resolve, reject) => {
        const req = request(
          `${game.httpUrl}${path}`,
          { headers: { "accept-encoding": "identity", ...headers } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
            );
          },
        );
        req.on("error", reject);
        req.end();
      },
    );
  }

  it("serves the play page, which loads the bundled script and stylesheet", async () => {
    const page = await get("/");
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toMatch(/text\/html/);
    expect(page.body.toString()).toContain('<script type="module" src="/play.js"></script>');
    const script = await get("/play.js");
    expect(script.headers["content-type"]).toMatch(/javascript/);
    // the SDK is bundled in, with the page's own code on the shared protocol
    expect(script.body.toString()).toContain("joinOrCreate");
    expect(script.body.toString()).toMatch(/\/\/# sourceMappingURL=play\.js\.map\s*$/);
    const map = JSON.parse((await get("/play.js.map")).body.toString()) as { sources: string[] };
    expect(map.sources.some((s) => s.endsWith("play.ts"))).toBe(true);
    expect((await get("/replay.html")).body.toString()).toContain('src="/replay.js"');
    expect((await get("/arena.css")).headers["content-type"]).toMatch(/text\/css/);
  });

  it("compresses with brotli or gzip as accepted, identical once decoded", async () => {
    const plain = await get("/play.js");
    expect(plain.headers["content-encoding"]).toBeUndefined();
    const br = await get("/play.js", { "accept-encoding": "gzip, deflate, br" });
    expect(br.headers["content-encoding"]).toBe("br");
    expect(br.headers.vary).toBe("Accept-Encoding");
    expect(Number(br.headers["content-length"])).toBe(br.body.length);
    expect(br.body.length).toBeLessThan(plain.body.length / 2);
    expect(brotliDecompressSync(br.body).equals(plain.body)).toBe(true);
    const gz = await get("/play.js", { "accept-encoding": "gzip" });
    expect(gz.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
    expect(pickEncoding("br;q=0, gzip")).toBe("gzip");
    expect(pickEncoding("gzip;q=0")).toBe("identity");
    expect(pickEncoding(undefined)).toBe("identity");
  });

  it("revalidates with the ETag: 304 without a body, 200 when the tag differs", async () => {
    const first = await get("/play.js", { "accept-encoding": "br" });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers["cache-control"]).toBe("no-cache");
    // the same tag whatever the encoding: it names the content
    expect((await get("/play.js")).headers.etag).toBe(etag);
    const again = await get("/play.js", { "accept-encoding": "br", "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect((await get("/play.js", { "if-none-match": '"other"' })).status).toBe(200);
  });

  it("leaves every other path to the game server's router", async () => {
    expect((await get("/healthz")).status).toBe(200);
    expect((await get("/colyseus.js")).status).toBe(404);
  });
});
