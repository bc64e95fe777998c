// One RPC connection: each frame is checked (rpc-frame.ts) and answered under its reqId, after the
// injected delay (rpc-answers.ts). A bad frame is answered and counted; after MAX_BAD_FRAMES the
// connection is closed with a reason, as is one whose client does not read its answers.
import type { WebSocket } from "ws";
import { answerMany, answerOne } from "./rpc-answers.ts";
import { readFrame } from "./rpc-frame.ts";
import { codec, type ReplyItem } from "./rpc-protocol.ts";
import type { ServiceContext } from "./service-context.ts";

/** A connection that sends this many bad frames is closed (each one is still answered). */
const MAX_BAD_FRAMES = 100;
/** A client that does not read its answers is cut off before it can exhaust our memory. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

export function serveConnection(ctx: ServiceContext, ws: WebSocket): void {
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

  const reply = (reqId: number, body: ReplyItem | ReplyItem[]): void => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > MAX_BUFFERED_BYTES) return ws.close(1008, "not reading answers");
    ws.send(codec.pack([reqId, body]));
  };

  ws.on("message", (data: Buffer, isBinary: boolean) => {
    const started = performance.now();
    const frame = readFrame(data, isBinary);
    if (frame.op !== undefined) ctx.metrics.requests.inc({ transport: "rpc", op: frame.op });
    if (!frame.ok) {
      ctx.metrics.rejectedFrames.inc({ reason: frame.reason });
      reply(frame.reqId, { e: "bad_request", m: frame.message });
      if (++badFrames >= MAX_BAD_FRAMES) ws.close(1008, "too many malformed frames");
      return;
    }
    const { reqId } = frame;
    const n = frame.op === "get" ? 1 : frame.ids.length;
    if (ctx.faults.stall) return void ctx.metrics.stalled.inc({ transport: "rpc" });
    if (ctx.storeError() !== undefined) {
      ctx.metrics.errors.inc({ transport: "rpc", code: "unavailable" }, n);
      return reply(reqId, ctx.notReady());
    }
    ctx.metrics.enter(n);
    ctx.later(
      async () => {
        try {
          reply(reqId, frame.op === "get" ? await answerOne(ctx, frame.id) : await answerMany(ctx, frame.ids));
        } finally {
          ctx.metrics.leave(n);
        }
        ctx.metrics.duration.observe(performance.now() - started, "rpc");
      },
      (m) => reply(reqId, { e: "server", m }),
    );
  });
}
