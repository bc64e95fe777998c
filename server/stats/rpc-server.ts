// The stats service's RPC server (ws + msgpack at /rpc, wire format in rpc-protocol.ts), around the
// store (ServiceContext). A bad frame is answered (or, after MAX_BAD_FRAMES, the connection is closed
// with a reason) and counted; it never reaches the store.
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { isValidStatsId } from "../../shared/stats.ts";
import {
  MAX_BATCH,
  MAX_FRAME_BYTES,
  OP_BATCH,
  OP_GET,
  RPC_PATH,
  codec,
  toTuple,
  type ReplyItem,
  type WireError,
} from "./rpc-protocol.ts";
import type { ServiceContext } from "./service-context.ts";

/** A connection that sends this many bad frames is closed (each one is still answered). */
const MAX_BAD_FRAMES = 100;
/** A client that does not read its answers is cut off before it can exhaust our memory. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export interface RpcServer {
  /** the HTTP server's "upgrade" handler: /rpc with the token, refused otherwise */
  onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  /** terminates every connection */
  close(): void;
}

export function rpcServer(ctx: ServiceContext): RpcServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false });

  function onUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on("error", () => ctx.metrics.errors.inc({ transport: "rpc", code: "socket" }));
    const path = new URL(req.url ?? "/", "http://x").pathname;
    if (path !== RPC_PATH) return refuseUpgrade(socket, 404, "Not Found");
    if (!ctx.authorized(req.headers.authorization)) {
      ctx.metrics.errors.inc({ transport: "rpc", code: "unauthorized" });
      return refuseUpgrade(socket, 401, "Unauthorized");
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
  }

  function refuseUpgrade(socket: Socket, status: number, text: string): void {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  function onConnection(ws: WebSocket): void {
    ctx.metrics.connections++;
    let badFrames = 0;
    ctx.log.info("rpc connection opened");
    ws.on("close", (code, reason) => {
      ctx.metrics.connections--;
      ctx.log.info("rpc connection closed", { code, reason: reason.toString() });
    });
    // ws reports protocol violations (oversized frame, bad opcode) here and then closes with a code
    ws.on("error", (err) => {
      ctx.metrics.rejectedFrames.inc({ reason: "protocol" });
      ctx.log.warn("rpc connection error", { error: err.message });
    });

    const reject = (reqId: number, reason: string, message: string): void => {
      ctx.metrics.rejectedFrames.inc({ reason });
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
        ctx.metrics.requests.inc({ transport: "rpc", op: "get" });
        if (!isValidStatsId(arg)) return reject(reqId, "id", badId.m);
        n = 1;
      } else if (op === OP_BATCH) {
        ctx.metrics.requests.inc({ transport: "rpc", op: "batch" });
        if (!Array.isArray(arg) || arg.length === 0 || arg.length > MAX_BATCH) {
          return reject(reqId, "ids", `ids must be an array of 1..${MAX_BATCH} ids`);
        }
        n = arg.length;
      } else {
        return reject(reqId, "op", `unknown op ${JSON.stringify(op)}; use ${OP_GET} (get) or ${OP_BATCH} (batch)`);
      }
      if (ctx.faults.stall) return void ctx.metrics.stalled.inc({ transport: "rpc" });
      if (ctx.storeError() !== undefined) {
        ctx.metrics.errors.inc({ transport: "rpc", code: "unavailable" }, n);
        return reply(reqId, ctx.notReady());
      }
      ctx.metrics.enter(n);
      ctx.later(
        async () => {
          try {
            reply(reqId, op === OP_GET ? await answer(arg as string) : await answerMany(arg as unknown[]));
          } finally {
            ctx.metrics.leave(n);
          }
          ctx.metrics.duration.observe(performance.now() - started, "rpc");
        },
        (m) => reply(reqId, { e: "server", m }),
      );
    });
  }

  const badId: WireError = { e: "bad_request", m: "id must be a string matching [A-Za-z0-9_-]{1,64}" };
  const injected: WireError = { e: "server", m: "injected failure" };

  async function answer(id: string): Promise<ReplyItem> {
    if (ctx.faults.shouldFail()) {
      ctx.metrics.errors.inc({ transport: "rpc", code: "server" });
      return injected;
    }
    const s = await ctx.store.get(id);
    ctx.metrics.idsServed.inc({ transport: "rpc" });
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
      } else if (ctx.faults.shouldFail()) {
        out[i] = injected;
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

  return {
    onUpgrade,
    close: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}
