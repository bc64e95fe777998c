// RPC transport of the stats client: one persistent WebSocket, many frames in flight, reconnect
// with backoff (shared/backoff.ts: full jitter). Cancellation: an abandoned call is dropped on
// this side (its frame slot is freed once no live call is left in it) and its late answer is
// ignored; the service is not told, since answers come from memory and a cancel frame would cost
// as much as the answer it saves.
import WebSocket from "ws";
import type { PlayerStats } from "../../shared/stats.ts";
import { Backoff } from "../../shared/backoff.ts";
import {
  type Call,
  type CallSink,
  type ClientLog,
  type Transport,
  type TransportOptions,
} from "./coalescing-client.ts";
import { StatsError, isStatsErrorCode } from "./errors.ts";
import {
  MAX_BATCH,
  MAX_FRAME_BYTES,
  OP_BATCH,
  OP_GET,
  codec,
  fromTuple,
  isTuple,
  isWireError,
  type ReplyItem,
} from "./rpc-protocol.ts";

/** The calls of one frame on the wire; `live` counts those not yet abandoned. */
interface Frame {
  readonly reqId: number;
  readonly calls: Call[];
  readonly batch: boolean;
  live: number;
}

/** Ping period; a connection with no pong since the previous ping is dropped. */
const PING_MS = 5000;
/** A connect that hangs (e.g. a black-holed host) must end, so that gets fail fast after it. */
const HANDSHAKE_TIMEOUT_MS = 3000;

type State = "connecting" | "open" | "down" | "closed";

export class RpcTransport implements Transport {
  private readonly url: string;
  private readonly sink: CallSink;
  private readonly authHeaders: Readonly<Record<string, string>>;
  private readonly log: ClientLog;
  private ws: WebSocket | undefined;
  private state: State = "connecting";
  /** only the very first connect queues gets; after an outage gets fail fast until reconnected */
  private firstConnect = true;
  private queued: Call[] = [];
  private readonly frames = new Map<number, Frame>();
  private nextReqId = 1;
  private readonly backoff: Backoff;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private awaitingPong = false;
  private lastError = new StatsError("unavailable", "stats service not connected yet");

  constructor(url: string, sink: CallSink, opts: TransportOptions) {
    this.url = url;
    this.sink = sink;
    this.authHeaders = opts.authHeaders;
    this.log = opts.log;
    this.backoff = new Backoff({ minMs: opts.backoffMinMs, maxMs: opts.backoffMaxMs });
    this.connect();
  }

  get down(): boolean {
    return this.state === "closed" || (this.state !== "open" && !this.firstConnect);
  }

  downError(): StatsError {
    return this.state === "closed" ? new StatsError("unavailable", "stats client is closed") : this.lastError;
  }

  send(calls: Call[]): void {
    if (this.state !== "open") {
      if (this.state === "connecting" && this.firstConnect) this.queued.push(...calls);
      else for (const call of calls) this.sink.settle(call, this.downError());
      return;
    }
    const ws = this.ws!;
    const c = this.sink.tally;
    c.wireRequests += calls.length;
    if (calls.length === 1) {
      const call = calls[0];
      const frame: Frame = { reqId: this.reqId(), calls, batch: false, live: 1 };
      call.wire = frame;
      this.frames.set(frame.reqId, frame);
      c.frames++;
      ws.send(codec.pack([OP_GET, frame.reqId, call.id]));
      return;
    }
    for (let at = 0; at < calls.length; at += MAX_BATCH) {
      const chunk = calls.length <= MAX_BATCH ? calls : calls.slice(at, at + MAX_BATCH);
      const ids = new Array<string>(chunk.length);
      const frame: Frame = { reqId: this.reqId(), calls: chunk, batch: true, live: chunk.length };
      for (let i = 0; i < chunk.length; i++) {
        ids[i] = chunk[i].id;
        chunk[i].wire = frame;
      }
      this.frames.set(frame.reqId, frame);
      c.frames++;
      c.batches++;
      ws.send(codec.pack([OP_BATCH, frame.reqId, ids]));
    }
  }

  forget(call: Call): void {
    const frame = call.wire as Frame | undefined;
    if (frame !== undefined && --frame.live === 0) this.frames.delete(frame.reqId);
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    this.stopPing();
    this.failAll(new StatsError("unavailable", "stats client closed"));
    const ws = this.ws;
    this.ws = undefined;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((resolve) => {
        ws.once("close", () => resolve());
        ws.close(1000, "client closing");
        // a peer that never answers the close handshake must not hold shutdown
        setTimeout(() => {
          ws.terminate();
          resolve();
        }, 500).unref();
      });
    }
  }

  private reqId(): number {
    const id = this.nextReqId;
    this.nextReqId = id >= 0x7fffffff ? 1 : id + 1;
    return id;
  }

  private connect(): void {
    this.state = "connecting";
    const ws = new WebSocket(this.url, {
      headers: this.authHeaders,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    });
    this.ws = ws;
    ws.binaryType = "nodebuffer";
    ws.on("unexpected-response", (req, res) => {
      this.lastError =
        res.statusCode === 401
          ? new StatsError("unauthorized", "stats service refused the token (HTTP 401)")
          : new StatsError("unavailable", `stats service answered the upgrade with HTTP ${res.statusCode}`);
      req.destroy();
      res.resume();
      this.onClose(ws);
    });
    ws.on("open", () => this.onOpen(ws));
    ws.on("message", (data: Buffer, isBinary: boolean) => this.onMessage(data, isBinary));
    ws.on("pong", () => {
      this.awaitingPong = false;
    });
    ws.on("error", (err: Error) => {
      if (this.lastError.code !== "unauthorized") {
        this.lastError = new StatsError("unavailable", `stats service unreachable: ${err.message}`);
      }
    });
    ws.on("close", () => this.onClose(ws));
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws) return;
    if (!this.firstConnect) {
      this.sink.tally.reconnects++;
      this.log({ level: "info", msg: "stats service reconnected", url: this.url });
    }
    this.state = "open";
    this.firstConnect = false;
    this.backoff.reset();
    this.startPing(ws);
    const queued = this.queued.filter((c) => !c.done);
    this.queued = [];
    if (queued.length > 0) this.send(queued);
  }

  private onClose(ws: WebSocket): void {
    if (ws !== this.ws || this.state === "closed") return;
    this.ws = undefined;
    const retryIn = this.backoff.next();
    if (this.state === "open") {
      this.sink.tally.disconnects++;
      this.log({ level: "warn", msg: "stats service connection lost", url: this.url, retryInMs: retryIn });
    } else if (this.firstConnect) {
      this.log({ level: "warn", msg: "stats service not reachable", url: this.url, error: this.lastError.message });
    }
    this.state = "down";
    this.firstConnect = false;
    this.stopPing();
    if (this.lastError.code !== "unauthorized") {
      this.lastError = new StatsError("unavailable", "stats service connection lost; reconnecting");
    }
    this.failAll(this.lastError);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === "down") this.connect();
    }, retryIn);
  }

  private failAll(e: StatsError): void {
    const frames = [...this.frames.values()];
    this.frames.clear();
    for (const f of frames) for (const call of f.calls) if (!call.done) this.sink.settle(call, e);
    const queued = this.queued;
    this.queued = [];
    for (const call of queued) if (!call.done) this.sink.settle(call, e);
  }

  private startPing(ws: WebSocket): void {
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      // no pong since the last ping: the peer is gone without closing (e.g. a dead host)
      if (this.awaitingPong) return ws.terminate();
      this.awaitingPong = true;
      ws.ping();
    }, PING_MS);
    this.pingTimer.unref();
  }

  private stopPing(): void {
    if (this.pingTimer !== undefined) clearInterval(this.pingTimer);
    this.pingTimer = undefined;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const c = this.sink.tally;
    let msg: unknown;
    try {
      if (!isBinary) throw new Error("text frame");
      msg = codec.unpack(data);
    } catch {
      return this.protocolError("undecodable frame");
    }
    if (!Array.isArray(msg) || msg.length !== 2 || !Number.isInteger(msg[0]))
      return this.protocolError("frame of the wrong shape");
    const reqId = msg[0] as number;
    const frame = this.frames.get(reqId);
    if (frame === undefined) {
      // reqId 0: the service could not attribute an error to a request of ours
      if (reqId === 0) this.protocolError("unattributed error", msg[1]);
      else c.lateReplies++;
      return;
    }
    this.frames.delete(reqId);
    const body = msg[1] as unknown;
    const calls = frame.calls;
    if (!frame.batch) {
      this.deliver(calls[0], body as ReplyItem);
      return;
    }
    if (isWireError(body)) {
      // the whole batch was refused
      for (const call of calls) this.deliver(call, body);
      return;
    }
    if (!Array.isArray(body) || body.length !== calls.length) {
      this.protocolError("batch reply of the wrong length");
      const e = new StatsError("server", "malformed reply from the stats service");
      for (const call of calls) if (!call.done) this.sink.settle(call, e);
      return;
    }
    for (let i = 0; i < calls.length; i++) this.deliver(calls[i], body[i] as ReplyItem);
  }

  private protocolError(what: string, detail?: unknown): void {
    this.sink.tally.protocolErrors++;
    this.log({ level: "warn", msg: `stats RPC: ${what}`, detail });
  }

  private deliver(call: Call, item: ReplyItem): void {
    if (call.done) {
      this.sink.tally.lateReplies++;
      return;
    }
    let result: PlayerStats | StatsError;
    if (isTuple(item) && item[0] === call.id) result = fromTuple(item);
    else if (isWireError(item)) {
      const code = isStatsErrorCode(item.e) ? item.e : "server";
      result = new StatsError(code, typeof item.m === "string" ? item.m : code);
    } else {
      this.protocolError("malformed reply item");
      result = new StatsError("server", "malformed reply item from the stats service");
    }
    this.sink.settle(call, result);
  }
}
