/**
 * What a join's token check costs: one call of the arena's verifier (auth/token-verifier.ts) per
 * join, for a guest token (HS256) and a studio token (ES256, also RS256 and EdDSA) whose key set
 * was fetched once from a real local JWKS endpoint (auth/jwks-key-source.ts), beside the HMAC
 * check of the token format before JWTs (`<payload>.<mac>`, reproduced below as it was, since the
 * server no longer has it). Measured in one run, interleaved in an order that reverses every
 * round; per kind: wall µs per check, checks run one after another (a join awaits its check),
 * and CPU µs per check over all threads (WebCrypto verifies on libuv's pool, off the event loop).
 * Medians of the rounds; ratios to the HMAC check are medians of per-round ratios.
 * `npm run bench:auth`, or `benchAuth()` from bench/main.ts. Never fails on timing.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { guestKey, issueGuest } from "../server/game/auth/guest-issuer.ts";
import { JwksKeySource } from "../server/game/auth/jwks-key-source.ts";
import { createTokenVerifier, type TokenVerifier } from "../server/game/auth/token-verifier.ts";
import { createGameMetrics } from "../server/game/metrics.ts";
import { createLogger } from "../server/observability/log.ts";
import { limitLog } from "../server/observability/log-limiter.ts";
import { median } from "./median.ts";

const ROUNDS = 15;
const CHECKS_PER_SAMPLE = 500;
const ISSUER = "https://login.bench/";
const AUDIENCE = "bench-game";
const TTL_S = 3600;

/** The check of the token format before JWTs, as server/game/auth/player-token.ts had it. */
function beforeJwtCheck(secret: string, token: string, nowS: number): boolean {
  const dot = token.indexOf(".");
  if (dot <= 0 || dot !== token.lastIndexOf(".")) return false;
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), "utf8");
  const expected = Buffer.from(createHmac("sha256", secret).update(payload).digest("base64url"), "utf8");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { pid: string; exp: number };
  return typeof claims.pid === "string" && claims.exp > nowS && claims.exp <= nowS + TTL_S;
}

type Check = () => Promise<boolean>;

async function sample(check: Check): Promise<{ wallUs: number; cpuUs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < CHECKS_PER_SAMPLE; i++) if (!(await check())) throw new Error("a valid token was refused");
  const wallUs = ((performance.now() - started) * 1000) / CHECKS_PER_SAMPLE;
  const used = process.cpuUsage(cpu);
  return { wallUs, cpuUs: (used.user + used.system) / CHECKS_PER_SAMPLE };
}

const accepted =
  (verify: TokenVerifier, token: string): Check =>
  async () =>
    (await verify(token)).ok;

export async function benchAuth(): Promise<string> {
  const log = createLogger("warn");
  const limitedLog = limitLog(log);
  const nowS = Math.floor(Date.now() / 1000);

  const secret = "bench-auth-secret-0123456789abcdef";
  const oldPayload = Buffer.from(JSON.stringify({ pid: "p_benchplayer1", name: "Ann", exp: nowS + 600 })).toString(
    "base64url",
  );
  const oldToken = `${oldPayload}.${createHmac("sha256", secret).update(oldPayload).digest("base64url")}`;

  const studioAlgs = ["ES256", "RS256", "EdDSA"] as const;
  const pairs = await Promise.all(studioAlgs.map((alg) => generateKeyPair(alg, { extractable: true })));
  const jwks = {
    keys: await Promise.all(
      pairs.map(async (p, i) => ({ ...(await exportJWK(p.publicKey)), kid: `k-${i}`, alg: studioAlgs[i] })),
    ),
  };
  const server = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks)),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const metrics = createGameMetrics({ ccu: () => 0, rooms: () => 0, statsClientCounters: () => ({}) });
  const keySource = new JwksKeySource({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`,
    refreshS: 3600,
    cooldownS: 3600,
    metrics,
    log,
    limitedLog,
  });
  keySource.start();
  const key = await guestKey(secret);
  const verify = createTokenVerifier({
    guestKey: key,
    studio: { issuer: ISSUER, audience: AUDIENCE, keys: keySource.getKey, nameClaims: ["name"] },
    ttlS: TTL_S,
    clockToleranceS: 30,
    limitedLog,
  });
  const guest = await issueGuest(key, TTL_S, "Ann", nowS);
  const studioTokens = await Promise.all(
    pairs.map((p, i) =>
      new SignJWT({ name: "Ann" })
        .setProtectedHeader({ alg: studioAlgs[i], kid: `k-${i}` })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject("auth0|bench-user")
        .setIssuedAt(nowS)
        .setExpirationTime(nowS + 600)
        .sign(p.privateKey),
    ),
  );

  const kinds: [string, Check][] = [
    [
      "HMAC check, token format before JWTs",
      async () => beforeJwtCheck(secret, oldToken, Math.floor(Date.now() / 1000)),
    ],
    ["guest JWT, HS256", accepted(verify, guest.token)],
    ...studioAlgs.map((alg, i): [string, Check] => [
      `studio JWT, ${alg} (JWKS cached)`,
      accepted(verify, studioTokens[i]),
    ]),
  ];
  try {
    for (const [, check] of kinds) for (let w = 0; w < 200; w++) await check(); // warm-up; loads the key set once
    const samples = kinds.map(() => [] as { wallUs: number; cpuUs: number }[]);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < kinds.length; k++) {
        const i = r % 2 === 0 ? k : kinds.length - 1 - k;
        samples[i].push(await sample(kinds[i][1]));
      }
    }
    const f = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));
    const ratio = (i: number, of: "wallUs" | "cpuUs") =>
      median(samples[i].map((s, r) => s[of] / samples[0][r][of])).toFixed(1) + "x";
    return [
      `Token check per join: µs per check, medians of ${ROUNDS} rounds of ${CHECKS_PER_SAMPLE} checks each (kinds interleaved);`,
      "wall = one check after another on an idle event loop, CPU = all threads (process.cpuUsage)",
      "",
      "| token | wall µs | CPU µs | wall / HMAC | CPU / HMAC |",
      "| --- | ---: | ---: | ---: | ---: |",
      ...kinds.map(
        ([name], i) =>
          `| ${name} | ${f(median(samples[i].map((s) => s.wallUs)))} | ${f(median(samples[i].map((s) => s.cpuUs)))} | ${i === 0 ? "1x" : ratio(i, "wallUs")} | ${i === 0 ? "1x" : ratio(i, "cpuUs")} |`,
      ),
    ].join("\n");
  } finally {
    keySource.close();
    server.close();
    server.closeAllConnections();
  }
}

if (import.meta.main) {
  console.log(`node ${process.version}`);
  console.log(await benchAuth());
}
