// The stats service: one port, HTTP JSON for people and tools, msgpack RPC over WebSocket at /rpc
// for the game server, a store (SQLite file, or PostgreSQL shared by replicas), fault knobs. Bad input is answered (or the connection is
// closed with a reason) and counted; it never reaches the store and never takes the process down.
//
// HTTP routes
//   GET  /players/:id/stats[?create=0]  200 stats | 400 bad id | 404 with create=0 and id not stored.
//                                       A valid id never 404s otherwise: with the token, an unknown id is
//                                       created on first read (as over RPC); without it, the derived stats
//                                       are answered but nothing is written (anonymous reads never write).
//   PUT  /players/:id/stats             token; body: all 7 stat fields, optional id (must match) and
//                                       version (expected current version; 409 on mismatch); 400 names the field
//   GET  /healthz                       200 { status: "ok", store } | 503 { status: "starting", store, error }
//                                       while the store is not open yet (PostgreSQL not reachable: retried)
//   GET  /metrics                       Prometheus text
//   GET|PUT /admin/faults               token; PUT body: a partial Faults; answers the faults in force
//   anything else                       404 JSON
// Errors are JSON { error: code, message, field? }. Faults apply to the /players routes and RPC only.
// Until the store is open, /players answers 503 `unavailable` and RPC answers `unavailable` per request.
import { timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { createLogger, type Logger } from "../log.ts";
import { deriveStats, isValidStatsId, validateStatFields } from "../../shared/stats.ts";
import { checkFaults, FaultInjector, type Faults } from "./faults.ts";
import { ServiceMetrics } from "./metrics.ts";
import {
  MAX_BATCH, MAX_FRAME_BYTES, OP_BATCH, OP_GET, RPC_PATH, codec, toTuple, type ReplyItem, type WireError,
} from "./rpc-protocol.ts";
import { createStore, openStore } from "./store/open-store.ts";

export type { Faults } from "./faults.ts";

export interface StatsServiceOptions {
  host?: string;
  /** 0 picks a free port */
  port?: number;
  /** SQLite file, ':memory:' (default) or a postgres:// URL */
  db?: string;
  /** PostgreSQL: pool size (default 10) and statement bound, ms (default 1000) */
  poolSize?: number;
  statementTimeoutMs?: number;
  token: string;
  faults?: Partial<Faults>;
  /** connection events, writes, fault changes, internal errors (default: silent) */
  log?: Logger;
}

export interface StatsService {
  readonly port: number;
  readonly rpcUrl: string;
  readonly httpUrl: string;
  /** resolves once the store is open (at once for SQLite; PostgreSQL: when reachable and migrated) */
  readonly storeReady: Promise<void>;
  setFaults(f: Partial<Faults>): void;
  readonly faults: Faults;
  /** the service's own counters and gauges (also on /metrics) */
  counters(): Record<string, number>;
  /** restarts the in-flight peak gauge from the current in-flight count */
  resetPeak(): void;
  close(): Promise<void>;
}

/** A connection that sends this many bad frames is closed (each one is still answered). */
const MAX_BAD_FRAMES = 100;
/** A client that does not read its answers is cut off before it can exhaust our memory. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
const MAX_BODY_BYTES = 16 * 1024;
/** Failed requests are logged at most once per this period, with the count of those not logged. */
const ERROR_LOG_EVERY_MS = 1000;

export async function startStatsService(opts: StatsServiceOptions): Promise<StatsService> {
  const host = opts.host ?? "127.0.0.1";
  const log = opts.log ?? createLogger("silent");
  const store = createStore(opts.db ?? ":memory:", { poolSize: opts.poolSize ?? 10, statementTimeoutMs: opts.statementTimeoutMs ?? 1000, log });
  let storeError: string | undefined = "opening";
  const opening = openStore(store, { log, onError: (err) => (storeError = err.message) });
  const storeReady = Promise.resolve(opening).then(() => {
    storeError = undefined;
    log.info("stats store ready", { store: store.kind });
  });
  storeReady.catch(() => {}); // halted by close() before it opened: nothing to report
  const notReady = (): WireError => ({ e: "unavailable", m: `stats store not ready: ${storeError}` });
  const faults = new FaultInjector();
  if (opts.faults) faults.set(opts.faults);
  const metrics = new ServiceMetrics();
  const tokenBytes = Buffer.from(opts.token);
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const stalled = new Set<ServerResponse>();
  let errorLoggedAt = -Infinity;
  let errorsNotLogged = 0;

  function authorized(header: string | undefined): boolean {
    if (header === undefined || !header.startsWith("Bearer ")) return false;
    const given = Buffer.from(header.slice(7));
    return given.length === tokenBytes.length && timingSafeEqual(given, tokenBytes);
  }

  /**
   * Runs `answer` after the injected delay (at once when there is none). A failure in it (an SQLite
   * error, PostgreSQL gone, a statement timeout) is counted, logged (at most once a second, with
   * the count since the last line) and turned into an error answer by `onError`: it never reaches
   * the event loop, so it cannot take the process down.
   */
  function later(answer: () => Promise<void>, onError: (message: string) => void): void {
    const run = async () => {
      try {
        await answer();
      } catch (err) {
        metrics.errors.inc({ transport: "internal" });
        const now = performance.now();
        if (now - errorLoggedAt < ERROR_LOG_EVERY_MS) errorsNotLogged++;
        else {
          log.error("stats request failed", { error: (err as Error).message, store: store.kind, notLogged: errorsNotLogged });
          errorLoggedAt = now;
          errorsNotLogged = 0;
        }
        onError(`stats store error: ${(err as Error).message}`);
      }
    };
    const ms = faults.delayMs();
    if (ms === 0) return void run();
    const t = setTimeout(() => {
      timers.delete(t);
      void run();
    }, ms);
    timers.add(t);
  }

  const httpFailed = (res: ServerResponse) => (message: string) => {
    if (res.headersSent) res.destroy();
    else sendError(res, 500, "server", message);
  };

  // ---------------------------------------------------------------- HTTP

  function send(res: ServerResponse, status: number, body: unknown, started?: number): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
    if (status >= 400) metrics.errors.inc({ transport: "http", status: String(status) });
    if (started !== undefined) metrics.duration.observe(performance.now() - started, "http");
  }

  function sendError(res: ServerResponse, status: number, error: string, message: string, field?: string, started?: number) {
    send(res, status, field === undefined ? { error, message } : { error, message, field }, started);
  }

  function readJson(req: IncomingMessage, res: ServerResponse, then: (body: unknown) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(c);
    });
    req.on("end", () => {
      if (tooBig) return sendError(res, 413, "bad_request", `body larger than ${MAX_BODY_BYTES} bytes`, "body");
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return sendError(res, 400, "bad_request", "body is not valid JSON", "body");
      }
      then(body);
    });
    req.on("error", () => metrics.errors.inc({ transport: "http", status: "aborted" }));
  }

  function handlePlayerGet(res: ServerResponse, id: string, create: boolean, canWrite: boolean, started: number): void {
    metrics.requests.inc({ transport: "http", op: "get" });
    if (!isValidStatsId(id)) return sendError(res, 400, "bad_request", "not a valid stats id", "id", started);
    if (faults.stall) return stall(res);
    if (storeError !== undefined) return sendError(res, 503, "unavailable", notReady().m, undefined, started);
    metrics.enter(1);
    later(async () => {
      metrics.leave(1);
      if (res.destroyed) return;
      if (faults.shouldFail()) return sendError(res, 503, "server", "injected failure", undefined, started);
      const s = !create ? await store.peek(id) : canWrite ? await store.get(id) : ((await store.peek(id)) ?? deriveStats(id));
      if (s === undefined) return sendError(res, 404, "not_found", `no stats stored for ${id}`, undefined, started);
      metrics.idsServed.inc({ transport: "http" });
      send(res, 200, s, started);
    }, httpFailed(res));
  }

  function handlePlayerPut(req: IncomingMessage, res: ServerResponse, id: string, started: number): void {
    metrics.requests.inc({ transport: "http", op: "put" });
    if (!authorized(req.headers.authorization)) {
      req.resume();
      return sendError(res, 401, "unauthorized", "PUT needs the service token as 'Authorization: Bearer <token>'", undefined, started);
    }
    if (!isValidStatsId(id)) {
      req.resume();
      return sendError(res, 400, "bad_request", "not a valid stats id", "id", started);
    }
    readJson(req, res, (body) => {
      const checked = validateStatFields(body, id);
      if (!checked.ok) return sendError(res, 400, "bad_request", checked.message, checked.field, started);
      if (faults.stall) return stall(res);
      if (storeError !== undefined) return sendError(res, 503, "unavailable", notReady().m, undefined, started);
      later(async () => {
        if (res.destroyed) return;
        if (faults.shouldFail()) return sendError(res, 503, "server", "injected failure", undefined, started);
        const { version, ...fields } = checked.value;
        const r = await store.put(id, fields, version);
        if (!r.ok) {
          return send(res, 409, { error: "conflict", message: `version is ${r.current.version}, not ${version}`, field: "version", current: r.current }, started);
        }
        log.info("stats written", { id, version: r.stats.version });
        send(res, 200, r.stats, started);
      }, httpFailed(res));
    });
  }

  function handleFaults(req: IncomingMessage, res: ServerResponse): void {
    metrics.requests.inc({ transport: "http", op: "faults" });
    if (!authorized(req.headers.authorization)) {
      req.resume();
      return sendError(res, 401, "unauthorized", "admin endpoints need the service token");
    }
    if (req.method === "GET") return send(res, 200, faults.faults);
    readJson(req, res, (body) => {
      const checked = checkFaults(body);
      if (!checked.ok) return sendError(res, 400, "bad_request", checked.message, checked.field);
      faults.set(checked.value);
      log.info("faults set", { faults: faults.faults });
      send(res, 200, faults.faults);
    });
  }

  function stall(res: ServerResponse): void {
    metrics.stalled.inc({ transport: "http" });
    stalled.add(res);
    res.on("close", () => stalled.delete(res));
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    const m = /^\/players\/([^/]*)\/stats$/.exec(path);
    if (m !== null) {
      const id = decodeURIComponentSafe(m[1]);
      if (req.method === "GET") {
        const create = url.searchParams.get("create") !== "0";
        return handlePlayerGet(res, id, create, create && authorized(req.headers.authorization), started);
      }
      if (req.method === "PUT") return handlePlayerPut(req, res, id, started);
      return sendError(res, 405, "bad_request", "use GET or PUT");
    }
    if (path === "/healthz" && req.method === "GET") {
      if (storeError === undefined) return send(res, 200, { status: "ok", store: store.kind });
      return send(res, 503, { status: "starting", store: store.kind, error: storeError });
    }
    if (path === "/metrics" && req.method === "GET") {
      return void metrics.registry.exposition().then(({ contentType, text }) => {
        res.writeHead(200, { "content-type": contentType });
        res.end(text);
      }, (err: Error) => {
        metrics.errors.inc({ transport: "internal" });
        log.error("metrics exposition failed", { error: err.message });
        httpFailed(res)("metrics exposition failed");
      });
    }
    if (path === "/admin/faults" && (req.method === "GET" || req.method === "PUT")) return handleFaults(req, res);
    req.resume();
    sendError(res, 404, "not_found", `no route for ${req.method} ${path}`);
  }

  // ---------------------------------------------------------------- RPC

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });

  function onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on("error", () => metrics.errors.inc({ transport: "rpc", code: "socket" }));
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path !== RPC_PATH) return refuseUpgrade(socket, 404, "Not Found");
    if (!authorized(req.headers.authorization)) {
      metrics.errors.inc({ transport: "rpc", code: "unauthorized" });
      return refuseUpgrade(socket, 401, "Unauthorized");
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  }

  function refuseUpgrade(socket: Socket, status: number, text: string): void {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  function onConnection(ws: WebSocket): void {
    metrics.connections++;
    let badFrames = 0;
    log.info("rpc connection opened");
    ws.on("close", (code, reason) => {
      metrics.connections--;
      log.info("rpc connection closed", { code, reason: reason.toString() });
    });
    // ws reports protocol violations (oversized frame, bad opcode) here and then closes with a code
    ws.on("error", (err) => {
      metrics.rejectedFrames.inc({ reason: "protocol" });
      log.warn("rpc connection error", { error: err.message });
    });

    const reject = (reqId: number, reason: string, message: string): void => {
      metrics.rejectedFrames.inc({ reason });
      reply(reqId, { e: "bad_request", m: message });
      if (++badFrames >= MAX_BAD_FRAMES) ws.close(1008, "too many malformed frames");
    };

    const reply = (reqId: number, body: ReplyItem | ReplyItem[]): void => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1008, "not reading answers");
      ws.send(codec.pack([reqId, body]));
    };

    ws.on("message", (data: Buffer, isBinary: boolean) => {
      const started = performance.now();
      if (!isBinary) return reject(0, "text", "frames must be binary msgpack");
      let msg: unknown;
      try {
        msg = codec.unpack(data);
      } catch {
        return reject(0, "msgpack", "frame is not valid msgpack");
      }
      if (!Array.isArray(msg) || msg.length !== 3) return reject(0, "shape", "frame must be [op, reqId, id | ids]");
      const [op, reqId, arg] = msg as [unknown, unknown, unknown];
      if (typeof reqId !== "number" || !Number.isInteger(reqId) || reqId < 1 || reqId > 0x7fffffff) {
        return reject(0, "reqid", "reqId must be an integer 1..2^31-1");
      }
      let n: number;
      if (op === OP_GET) {
        metrics.requests.inc({ transport: "rpc", op: "get" });
        if (!isValidStatsId(arg)) return reject(reqId, "id", badId.m);
        n = 1;
      } else if (op === OP_BATCH) {
        metrics.requests.inc({ transport: "rpc", op: "batch" });
        if (!Array.isArray(arg) || arg.length === 0 || arg.length > MAX_BATCH) {
          return reject(reqId, "ids", `ids must be an array of 1..${MAX_BATCH} ids`);
        }
        n = arg.length;
      } else {
        return reject(reqId, "op", `unknown op ${JSON.stringify(op)}; use ${OP_GET} (get) or ${OP_BATCH} (batch)`);
      }
      if (faults.stall) return void metrics.stalled.inc({ transport: "rpc" });
      if (storeError !== undefined) {
        metrics.errors.inc({ transport: "rpc", code: "unavailable" }, n);
        return reply(reqId, notReady());
      }
      metrics.enter(n);
      later(async () => {
        try {
          reply(reqId, op === OP_GET ? await answer(arg as string) : await answerMany(arg as unknown[]));
        } finally {
          metrics.leave(n);
        }
        metrics.duration.observe(performance.now() - started, "rpc");
      }, (m) => reply(reqId, { e: "server", m }));
    });
  }

  const badId: WireError = { e: "bad_request", m: "id must be a string matching [A-Za-z0-9_-]{1,64}" };
  const injected: WireError = { e: "server", m: "injected failure" };

  async function answer(id: string): Promise<ReplyItem> {
    if (faults.shouldFail()) {
      metrics.errors.inc({ transport: "rpc", code: "server" });
      return injected;
    }
    const s = await store.get(id);
    metrics.idsServed.inc({ transport: "rpc" });
    return toTuple(s);
  }

  /**
   * Each id is checked once and draws its fault once, in order (as answer() does for one id); the
   * ids to serve are then read in one store call (SQLite: cache hits, one transaction for misses;
   * PostgreSQL: one query, a second only for ids never seen).
   */
  async function answerMany(ids: unknown[]): Promise<ReplyItem[]> {
    const out = new Array<ReplyItem | undefined>(ids.length);
    const serve: string[] = [];
    let bad = 0;
    let failed = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!isValidStatsId(id)) {
        out[i] = badId;
        bad++;
      } else if (faults.shouldFail()) {
        out[i] = injected;
        failed++;
      } else {
        serve.push(id);
      }
    }
    const found = serve.length > 0 ? await store.getMany(serve) : [];
    for (let i = 0, k = 0; i < out.length; i++) if (out[i] === undefined) out[i] = toTuple(found[k++]);
    metrics.idsServed.inc({ transport: "rpc" }, serve.length);
    if (bad > 0) metrics.errors.inc({ transport: "rpc", code: "bad_request" }, bad);
    if (failed > 0) metrics.errors.inc({ transport: "rpc", code: "server" }, failed);
    return out as ReplyItem[];
  }

  // ---------------------------------------------------------------- lifecycle

  const server: Server = createServer({ keepAliveTimeout: 60_000 }, onRequest);
  server.on("upgrade", onUpgrade);
  server.on("clientError", (_err, socket) => {
    metrics.errors.inc({ transport: "http", status: "client_error" });
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  return {
    port,
    rpcUrl: `ws://${urlHost}:${port}${RPC_PATH}`,
    httpUrl: `http://${urlHost}:${port}`,
    storeReady,
    setFaults: (f) => faults.set(f),
    get faults() {
      return faults.faults;
    },
    counters: () => ({
      connections: metrics.connections,
      inFlightIds: metrics.inFlightIds,
      inFlightPeak: metrics.inFlightPeak,
      rpcGetFrames: metrics.requests.get({ transport: "rpc", op: "get" }),
      rpcBatchFrames: metrics.requests.get({ transport: "rpc", op: "batch" }),
      httpGets: metrics.requests.get({ transport: "http", op: "get" }),
      rpcIdsServed: metrics.idsServed.get({ transport: "rpc" }),
      httpIdsServed: metrics.idsServed.get({ transport: "http" }),
    }),
    resetPeak: () => {
      metrics.inFlightPeak = metrics.inFlightIds;
    },
    close: () =>
      (closing ??= (async () => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        for (const res of stalled) res.destroy();
        for (const ws of wss.clients) ws.terminate();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        wss.close();
        await opening.halt();
        await store.close();
      })()),
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // left encoded, it fails the id check with a clear 400
  }
}
