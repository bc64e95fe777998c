// One RPC frame from a client, checked (wire format in rpc-protocol.ts): a get or a batch to
// answer, or what is wrong with it, with the reqId to answer under (0 when there is none yet).
import { isValidStatsId } from "../../shared/stats.ts";
import { MAX_BATCH, OP_BATCH, OP_GET, codec, type WireError } from "./rpc-protocol.ts";

export const BAD_ID: WireError = { e: "bad_request", m: "id must be a string matching [A-Za-z0-9_-]{1,64}" };

export type RpcFrame =
  | { ok: true; reqId: number; op: "get"; id: string }
  | { ok: true; reqId: number; op: "batch"; ids: unknown[] }
  /** `op`: the frame named a known op (it counts as a request of that op) */
  | { ok: false; reqId: number; reason: string; message: string; op?: "get" | "batch" };

export function readFrame(data: Buffer, isBinary: boolean): RpcFrame {
  const bad = (reqId: number, reason: string, message: string, op?: "get" | "batch"): RpcFrame => ({
    ok: false,
    reqId,
    reason,
    message,
    op,
  });
  if (!isBinary) return bad(0, "text", "frames must be binary msgpack");
  let msg: unknown;
  try {
    msg = codec.unpack(data);
  } catch {
    return bad(0, "msgpack", "frame is not valid msgpack");
  }
  if (!Array.isArray(msg) || msg.length !== 3) return bad(0, "shape", "frame must be [op, reqId, id | ids]");
  const [op, reqId, arg] = msg as [unknown, unknown, unknown];
  if (typeof reqId !== "number" || !Number.isInteger(reqId) || reqId < 1 || reqId > 0x7fffffff) {
    return bad(0, "reqid", "reqId must be an integer 1..2^31-1");
  }
  if (op === OP_GET) {
    if (!isValidStatsId(arg)) return bad(reqId, "id", BAD_ID.m, "get");
    return { ok: true, reqId, op: "get", id: arg };
  }
  if (op === OP_BATCH) {
    if (!Array.isArray(arg) || arg.length === 0 || arg.length > MAX_BATCH) {
      return bad(reqId, "ids", `ids must be an array of 1..${MAX_BATCH} ids`, "batch");
    }
    return { ok: true, reqId, op: "batch", ids: arg };
  }
  return bad(reqId, "op", `unknown op ${JSON.stringify(op)}; use ${OP_GET} (get) or ${OP_BATCH} (batch)`);
}
