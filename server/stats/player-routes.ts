// GET and PUT /players/:id/stats (what they answer: http-routes.ts). The id and body are checked
// before anything reaches the store; the store is read or written after the injected delay.
import type { IncomingMessage, ServerResponse } from "node:http";
import { deriveStats, isValidStatsId, validateStatFields } from "../../shared/stats.ts";
import type { HttpAnswer } from "./http-answer.ts";
import type { ServiceContext } from "./service-context.ts";

/**
 * `create`: an unknown id is created (false: 404); `canWrite`: the token came, so it may be
 * written (without it the derived stats are answered and nothing is stored).
 */
export function getPlayerStats(
  ctx: ServiceContext,
  answer: HttpAnswer,
  res: ServerResponse,
  request: { id: string; create: boolean; canWrite: boolean; started: number },
): void {
  const { id, create, canWrite, started } = request;
  ctx.metrics.requests.inc({ transport: "http", op: "get" });
  if (!isValidStatsId(id)) return answer.error(res, 400, "bad_request", "not a valid stats id", "id", started);
  if (ctx.faults.stall) return answer.stall(res);
  if (ctx.storeError() !== undefined)
    return answer.error(res, 503, "unavailable", ctx.notReady().m, undefined, started);
  ctx.metrics.enter(1);
  ctx.later(async () => {
    ctx.metrics.leave(1);
    if (res.destroyed) return;
    if (ctx.faults.shouldFail()) return answer.error(res, 503, "server", "injected failure", undefined, started);
    const s = !create
      ? await ctx.store.peek(id)
      : canWrite
        ? await ctx.store.get(id)
        : ((await ctx.store.peek(id)) ?? deriveStats(id));
    if (s === undefined) return answer.error(res, 404, "not_found", `no stats stored for ${id}`, undefined, started);
    ctx.metrics.idsServed.inc({ transport: "http" });
    answer.json(res, 200, s, started);
  }, answer.failed(res));
}

export function putPlayerStats(
  ctx: ServiceContext,
  answer: HttpAnswer,
  req: IncomingMessage,
  res: ServerResponse,
  request: { id: string; started: number },
): void {
  const { id, started } = request;
  ctx.metrics.requests.inc({ transport: "http", op: "put" });
  if (!ctx.authorized(req.headers.authorization)) {
    req.resume();
    return answer.error(
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
    return answer.error(res, 400, "bad_request", "not a valid stats id", "id", started);
  }
  answer.readJson(req, res, (body) => {
    const checked = validateStatFields(body, id);
    if (!checked.ok) return answer.error(res, 400, "bad_request", checked.message, checked.field, started);
    if (ctx.faults.stall) return answer.stall(res);
    if (ctx.storeError() !== undefined)
      return answer.error(res, 503, "unavailable", ctx.notReady().m, undefined, started);
    ctx.later(async () => {
      if (res.destroyed) return;
      if (ctx.faults.shouldFail()) return answer.error(res, 503, "server", "injected failure", undefined, started);
      const { version, ...fields } = checked.value;
      const r = await ctx.store.put(id, fields, version);
      if (!r.ok) {
        const message = `version is ${r.current.version}, not ${version}`;
        return answer.json(res, 409, { error: "conflict", message, field: "version", current: r.current }, started);
      }
      ctx.log.info("stats written", { id, version: r.stats.version });
      answer.json(res, 200, r.stats, started);
    }, answer.failed(res));
  });
}
