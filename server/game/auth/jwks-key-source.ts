/**
 * The public keys of a studio's login, from its JWKS (AUTH_JWKS_URL), for the token verifier.
 *
 * - Fetched at start, then again in the background once the set is `refreshS` old; a failed fetch
 *   is retried with backoff.
 * - A token whose `kid` is not in the set asks for a fetch at once (the studio rotated its keys),
 *   at most once per `cooldownS` however many such tokens arrive: a flood of made-up kids costs
 *   one fetch per cooldown, never one per token. Concurrent asks share one fetch.
 * - A fetch that fails (endpoint down, not JSON, not a key set, no keys) changes nothing: the
 *   last good key set stays in use for as long as the endpoint is away, logged and counted
 *   (`skirmish_jwks_fetches_total{result="failed"}`). Only while no key set was ever loaded does
 *   `problem()` say so (for /readyz), and studio tokens are refused meanwhile.
 *
 * jose's createRemoteJWKSet would fetch and cache too, but it drops the cached set once it is
 * older than its maximum age and the endpoint does not answer; here an outage never takes keys away.
 */
import {
  createLocalJWKSet,
  errors,
  type CryptoKey,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type LocalJWKSet,
} from "jose";
import { Backoff } from "../../../shared/backoff.ts";
import type { GameMetrics } from "../metrics.ts";
import type { Logger } from "../../observability/log.ts";
import type { LimitedLog } from "../../observability/log-limiter.ts";

export interface JwksKeySourceOptions {
  url: string;
  /** a key set this old is fetched again in the background, seconds */
  refreshS: number;
  /** least time between two fetches that tokens ask for (an unknown kid), seconds */
  cooldownS: number;
  metrics: GameMetrics;
  log: Logger;
  limitedLog: LimitedLog;
}

/** No key set was ever loaded: studio tokens cannot be checked yet. */
export class KeySetUnavailable extends Error {}

const FETCH_TIMEOUT_MS = 5000;
/** A JWKS is a few keys, a few kB; a body past this is not one. */
const MAX_JWKS_BYTES = 256 * 1024;
const RETRY_MIN_MS = 1000;

export class JwksKeySource {
  private readonly opts: JwksKeySourceOptions;
  private keys: LocalJWKSet | null = null;
  private keyCount = 0;
  private loadedAt = 0;
  private lastAttemptAt = -Infinity;
  private lastError = "not fetched yet";
  private inFlight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly retry: Backoff;
  private readonly closed = new AbortController();

  constructor(opts: JwksKeySourceOptions) {
    this.opts = opts;
    this.retry = new Backoff({
      minMs: RETRY_MIN_MS,
      maxMs: Math.max(RETRY_MIN_MS, Math.min(60, opts.refreshS) * 1000),
    });
  }

  /** The first fetch, then the background refreshes. */
  start(): void {
    void this.fetchNow();
  }

  /** Keys in the set in use (0 while none was ever loaded). */
  size(): number {
    return this.keyCount;
  }

  /** Why studio tokens cannot be checked, or null once a key set was ever loaded. */
  problem(): string | null {
    return this.keys === null ? `no key set loaded from AUTH_JWKS_URL yet (${this.lastError})` : null;
  }

  /** jose's key lookup: the key for a token's header, fetching the set again for an unknown kid. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> => {
    if (this.keys === null) {
      await this.fetchIfCool();
      if (this.keys === null) throw new KeySetUnavailable(this.lastError);
    }
    try {
      return await this.keys(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey) || !(await this.fetchIfCool())) throw err;
      return this.keys(header, token);
    }
  };

  close(): void {
    clearTimeout(this.timer);
    this.closed.abort();
  }

  /** Joins a fetch under way, or starts one if the cooldown allows; true when a fetch was awaited. */
  private async fetchIfCool(): Promise<boolean> {
    if (this.inFlight === null && performance.now() - this.lastAttemptAt < this.opts.cooldownS * 1000) return false;
    await this.fetchNow();
    return true;
  }

  private fetchNow(): Promise<void> {
    this.inFlight ??= this.fetchOnce().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async fetchOnce(): Promise<void> {
    const { metrics, log, limitedLog, refreshS } = this.opts;
    this.lastAttemptAt = performance.now();
    clearTimeout(this.timer);
    let nextMs: number;
    try {
      const jwks = await this.download();
      const keys = createLocalJWKSet(jwks as JSONWebKeySet); // throws on anything that is not a key set
      const recovered = this.lastError !== ""; // the first load, or the first after failures
      this.keys = keys;
      this.keyCount = jwks.keys.length;
      this.loadedAt = performance.now();
      this.lastError = "";
      this.retry.reset();
      metrics.jwksFetches.inc("ok");
      if (recovered) log.info("JWKS loaded", { keys: this.keyCount });
      nextMs = refreshS * 1000;
    } catch (err) {
      if (this.closed.signal.aborted) return;
      this.lastError = (err as Error).message.slice(0, 200);
      metrics.jwksFetches.inc("failed");
      const kept = this.keys === null ? {} : { keptKeys: this.keyCount, keptAgeS: this.ageS() };
      limitedLog(
        "warn",
        "jwks",
        this.keys === null
          ? "JWKS fetch failed; no key set yet, studio tokens are refused"
          : "JWKS fetch failed; keeping the last good key set",
        { error: this.lastError, ...kept },
      );
      nextMs = Math.max(RETRY_MIN_MS, this.retry.next());
    }
    if (this.closed.signal.aborted) return;
    this.timer = setTimeout(() => void this.fetchNow(), nextMs);
    this.timer.unref();
  }

  private ageS(): number {
    return Math.round((performance.now() - this.loadedAt) / 1000);
  }

  private async download(): Promise<{ keys: unknown[] }> {
    const res = await fetch(this.opts.url, {
      headers: { accept: "application/jwk-set+json, application/json" },
      redirect: "error",
      signal: AbortSignal.any([AbortSignal.timeout(FETCH_TIMEOUT_MS), this.closed.signal]),
    });
    if (!res.ok) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get("content-length") ?? 0);
    if (declared > MAX_JWKS_BYTES) {
      await res.body?.cancel();
      throw new Error(`key set of ${declared} bytes (at most ${MAX_JWKS_BYTES})`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_JWKS_BYTES) throw new Error(`key set over ${MAX_JWKS_BYTES} bytes`);
      chunks.push(chunk);
    }
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    const keys = (body as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new Error("not a JWKS (no keys array)");
    if (keys.length === 0) throw new Error("the JWKS holds no keys");
    return { keys };
  }
}
