// What the store answers to one RPC get or batch: stats tuples, and per-id errors (a bad id, an
// injected failure), counted as they are given.
import { isValidStatsId } from "../../shared/stats.ts";
import { BAD_ID } from "./rpc-frame.ts";
import { toTuple, type ReplyItem, type WireError } from "./rpc-protocol.ts";
import type { ServiceContext } from "./service-context.ts";

const INJECTED: WireError = { e: "server", m: "injected failure" };

export async function answerOne(ctx: ServiceContext, id: string): Promise<ReplyItem> {
  if (ctx.faults.shouldFail()) {
    ctx.metrics.errors.inc({ transport: "rpc", code: "server" });
    return INJECTED;
  }
  const s = await ctx.store.get(id);
  ctx.metrics.idsServed.inc({ transport: "rpc" });
  return toTuple(s);
}

/**
 * Each id is checked once and draws its fault once, in order (as answerOne does for one id); the
 * ids to serve are then read in one store call (SQLite: cache hits, one transaction for misses;
 * PostgreSQL: one query, a second only for ids never seen).
 */
export async function answerMany(ctx: ServiceContext, ids: unknown[]): Promise<ReplyItem[]> {
  const out = new Array<ReplyItem | undefined>(ids.length);
  const serve: string[] = [];
  let bad = 0;
  let failed = 0;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (!isValidStatsId(id)) {
      out[i] = BAD_ID;
      bad++;
    } else if (ctx.faults.shouldFail()) {
      out[i] = INJECTED;
      failed++;
    } else {
      serve.push(id);
    }
  }
  const found = serve.length > 0 ? await ctx.store.getMany(serve) : [];
  for (let i = 0, k = 0; i < out.length; i++) if (out[i] === undefined) out[i] = toTuple(found[k++]);
  ctx.metrics.idsServed.inc({ transport: "rpc" }, serve.length);
  if (bad > 0) ctx.metrics.errors.inc({ transport: "rpc", code: "bad_request" }, bad);
  if (failed > 0) ctx.metrics.errors.inc({ transport: "rpc", code: "server" }, failed);
  return out as ReplyItem[];
}
