// The stats service's HTTP routes, around the store (ServiceContext). Bad input is answered with a
// JSON error and counted; it never reaches the store.
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
import type { IncomingMessage, ServerResponse } from "node:http";
import { deriveStats, isValidStatsId, validateStatFields } from "../../shared/stats.ts";
import { checkFaults } from "./faults.ts";
import type { ServiceContext } from "./service-context.ts";

const MAX_BODY_BYTES = 16 * 1024;

export interface HttpRoutes {
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  /** ends the requests the stall fault holds */
  close(): void;
}

export function httpRoutes(ctx: ServiceContext): HttpRoutes {
  const stalled = new Set<ServerResponse>();

  const httpFailed = (res: ServerResponse) => (message: string) => {
    if (res.headersSent) res.destroy();
    else sendError(res, 500, "server", message);
  };

  function send(res: ServerResponse, status: number, body: unknown, started?: number): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
    if (status >= 400) ctx.metrics.errors.inc({ transport: "http", status: String(status) });
    if (started !== undefined) ctx.metrics.duration.observe(performance.now() - started, "http");
  }

  function sendError(
    res: ServerResponse,
    status: number,
    error: string,
    message: string,
    field?: string,
    started?: number,
  ) {
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
    req.on("error", () => ctx.metrics.errors.inc({ transport: "http", status: "aborted" }));
  }

  function handlePlayerGet(res: ServerResponse, id: string, create: boolean, canWrite: boolean, started: number): void {
    ctx.metrics.requests.inc({ transport: "http", op: "get" });
    if (!isValidStatsId(id)) return sendError(res, 400, "bad_request", "not a valid stats id", "id", started);
    if (ctx.faults.stall) return stall(res);
    if (ctx.storeError() !== undefined) return sendError(res, 503, "unavailable", ctx.notReady().m, undefined, started);
    ctx.metrics.enter(1);
    ctx.later(async () => {
      ctx.metrics.leave(1);
      if (res.destroyed) return;
      if (ctx.faults.shouldFail()) return sendError(res, 503, "server", "injected failure", undefined, started);
      const s = !create
        ? await ctx.store.peek(id)
        : canWrite
          ? await ctx.store.get(id)
          : ((await ctx.store.peek(id)) ?? deriveStats(id));
      if (s === undefined) return sendError(res, 404, "not_found", `no stats stored for ${id}`, undefined, started);
      ctx.metrics.idsServed.inc({ transport: "http" });
      send(res, 200, s, started);
    }, httpFailed(res));
  }

  function handlePlayerPut(req: IncomingMessage, res: ServerResponse, id: string, started: number): void {
    ctx.metrics.requests.inc({ transport: "http", op: "put" });
    if (!ctx.authorized(req.headers.authorization)) {
      req.resume();
      return sendError(
        res,
        401,
        "unauthorized",
        "PUT needs the service token as 'Authorization: Bearer <token>'",
        undefined,
        started,
      );
    }
    if (!isValidStatsId(id)) {
      req.resume();
      return sendError(res, 400, "bad_request", "not a valid stats id", "id", started);
    }
    readJson(req, res, (body) => {
      const checked = validateStatFields(body, id);
      if (!checked.ok) return sendError(res, 400, "bad_request", checked.message, checked.field, started);
      if (ctx.faults.stall) return stall(res);
      if (ctx.storeError() !== undefined)
        return sendError(res, 503, "unavailable", ctx.notReady().m, undefined, started);
      ctx.later(async () => {
        if (res.destroyed) return;
        if (ctx.faults.shouldFail()) return sendError(res, 503, "server", "injected failure", undefined, started);
        const { version, ...fields } = checked.value;
        const r = await ctx.store.put(id, fields, version);
        if (!r.ok) {
          return send(
            res,
            409,
            {
              error: "conflict",
              message: `version is ${r.current.version}, not ${version}`,
              field: "version",
              current: r.current,
            },
            started,
          );
        }
        ctx.log.info("stats written", { id, version: r.stats.version });
        send(res, 200, r.stats, started);
      }, httpFailed(res));
    });
  }

  function handleFaults(req: IncomingMessage, res: ServerResponse): void {
    ctx.metrics.requests.inc({ transport: "http", op: "faults" });
    if (!ctx.authorized(req.headers.authorization)) {
      req.resume();
      return sendError(res, 401, "unauthorized", "admin endpoints need the service token");
    }
    if (req.method === "GET") return send(res, 200, ctx.faults.faults);
    readJson(req, res, (body) => {
      const checked = checkFaults(body);
      if (!checked.ok) return sendError(res, 400, "bad_request", checked.message, checked.field);
      ctx.faults.set(checked.value);
      ctx.log.info("faults set", { faults: ctx.faults.faults });
      send(res, 200, ctx.faults.faults);
    });
  }

  function stall(res: ServerResponse): void {
    ctx.metrics.stalled.inc({ transport: "http" });
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
        return handlePlayerGet(res, id, create, create && ctx.authorized(req.headers.authorization), started);
      }
      if (req.method === "PUT") return handlePlayerPut(req, res, id, started);
      return sendError(res, 405, "bad_request", "use GET or PUT");
    }
    if (path === "/healthz" && req.method === "GET") {
      if (ctx.storeError() === undefined) return send(res, 200, { status: "ok", store: ctx.store.kind });
      return send(res, 503, { status: "starting", store: ctx.store.kind, error: ctx.storeError() });
    }
    if (path === "/metrics" && req.method === "GET") {
      return void ctx.metrics.registry.exposition().then(
        ({ contentType, text }) => {
          res.writeHead(200, { "content-type": contentType });
          res.end(text);
        },
        (err: Error) => {
          ctx.metrics.errors.inc({ transport: "internal" });
          ctx.log.error("metrics exposition failed", { error: err.message });
          httpFailed(res)("metrics exposition failed");
        },
      );
    }
    if (path === "/admin/faults" && (req.method === "GET" || req.method === "PUT")) return handleFaults(req, res);
    req.resume();
    sendError(res, 404, "not_found", `no route for ${req.method} ${path}`);
  }

  return {
    onRequest,
    close: () => {
      for (const res of stalled) res.destroy();
    },
  };
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // left encoded, it fails the id check with a clear 400
  }
}
