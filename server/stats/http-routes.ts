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
import { checkFaults } from "./faults.ts";
import { HttpAnswer } from "./http-answer.ts";
import { getPlayerStats, putPlayerStats } from "./player-routes.ts";
import type { ServiceContext } from "./service-context.ts";

export interface HttpRoutes {
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  /** ends the requests the stall fault holds */
  close(): void;
}

export function httpRoutes(ctx: ServiceContext): HttpRoutes {
  const answer = new HttpAnswer(ctx);
  return {
    onRequest: (req, res) => route(ctx, answer, req, res),
    close: () => answer.close(),
  };
}

function route(ctx: ServiceContext, answer: HttpAnswer, req: IncomingMessage, res: ServerResponse): void {
  const started = performance.now();
  const url = new URL(req.url ?? "/", "http://x");
  const path = url.pathname;
  const m = /^\/players\/([^/]*)\/stats$/.exec(path);
  if (m !== null) {
    const id = decodeURIComponentSafe(m[1]);
    if (req.method === "GET") {
      const create = url.searchParams.get("create") !== "0";
      const canWrite = create && ctx.authorized(req.headers.authorization);
      return getPlayerStats(ctx, answer, res, { id, create, canWrite, started });
    }
    if (req.method === "PUT") return putPlayerStats(ctx, answer, req, res, { id, started });
    return answer.error(res, 405, "bad_request", "use GET or PUT");
  }
  if (path === "/healthz" && req.method === "GET") return health(ctx, answer, res);
  if (path === "/metrics" && req.method === "GET") return metrics(ctx, answer, res);
  if (path === "/admin/faults" && (req.method === "GET" || req.method === "PUT")) return faults(ctx, answer, req, res);
  req.resume();
  answer.error(res, 404, "not_found", `no route for ${req.method} ${path}`);
}

function health(ctx: ServiceContext, answer: HttpAnswer, res: ServerResponse): void {
  if (ctx.storeError() === undefined) return answer.json(res, 200, { status: "ok", store: ctx.store.kind });
  answer.json(res, 503, { status: "starting", store: ctx.store.kind, error: ctx.storeError() });
}

function metrics(ctx: ServiceContext, answer: HttpAnswer, res: ServerResponse): void {
  void ctx.metrics.registry.exposition().then(
    ({ contentType, text }) => {
      res.writeHead(200, { "content-type": contentType });
      res.end(text);
    },
    (err: Error) => {
      ctx.metrics.errors.inc({ transport: "internal" });
      ctx.log.error("metrics exposition failed", { error: err.message });
      answer.failed(res)("metrics exposition failed");
    },
  );
}

function faults(ctx: ServiceContext, answer: HttpAnswer, req: IncomingMessage, res: ServerResponse): void {
  ctx.metrics.requests.inc({ transport: "http", op: "faults" });
  if (!ctx.authorized(req.headers.authorization)) {
    req.resume();
    return answer.error(res, 401, "unauthorized", "admin endpoints need the service token");
  }
  if (req.method === "GET") return answer.json(res, 200, ctx.faults.faults);
  answer.readJson(req, res, (body) => {
    const checked = checkFaults(body);
    if (!checked.ok) return answer.error(res, 400, "bad_request", checked.message, checked.field);
    ctx.faults.set(checked.value);
    ctx.log.info("faults set", { faults: ctx.faults.faults });
    answer.json(res, 200, ctx.faults.faults);
  });
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // left encoded, it fails the id check with a clear 400
  }
}
