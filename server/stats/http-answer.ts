// How the stats service's HTTP routes answer: JSON bodies (errors counted by status, durations
// observed), JSON request bodies read up to MAX_BODY_BYTES, and the responses the stall fault
// holds until close().
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServiceContext } from "./service-context.ts";

const MAX_BODY_BYTES = 16 * 1024;

export class HttpAnswer {
  private readonly ctx: ServiceContext;
  private readonly stalled = new Set<ServerResponse>();

  constructor(ctx: ServiceContext) {
    this.ctx = ctx;
  }

  json(res: ServerResponse, status: number, body: unknown, started?: number): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
    if (status >= 400) this.ctx.metrics.errors.inc({ transport: "http", status: String(status) });
    if (started !== undefined) this.ctx.metrics.duration.observe(performance.now() - started, "http");
  }

  /** `{ error, message, field? }` */
  error(res: ServerResponse, status: number, error: string, message: string, field?: string, started?: number): void {
    this.json(res, status, field === undefined ? { error, message } : { error, message, field }, started);
  }

  /** For ServiceContext.later: a failed answer is a 500, or a cut connection once the head went out. */
  failed(res: ServerResponse): (message: string) => void {
    return (message) => {
      if (res.headersSent) res.destroy();
      else this.error(res, 500, "server", message);
    };
  }

  /** Reads the body as JSON and hands it to `then`; too large or not JSON is answered here. */
  readJson(req: IncomingMessage, res: ServerResponse, then: (body: unknown) => void): void {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooBig = false;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooBig = true;
      else chunks.push(c);
    });
    req.on("end", () => {
      if (tooBig) return this.error(res, 413, "bad_request", `body larger than ${MAX_BODY_BYTES} bytes`, "body");
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return this.error(res, 400, "bad_request", "body is not valid JSON", "body");
      }
      then(body);
    });
    req.on("error", () => this.ctx.metrics.errors.inc({ transport: "http", status: "aborted" }));
  }

  /** The stall fault: no answer until the client gives up or close() ends it. */
  stall(res: ServerResponse): void {
    this.ctx.metrics.stalled.inc({ transport: "http" });
    this.stalled.add(res);
    res.on("close", () => this.stalled.delete(res));
  }

  /** ends the requests the stall fault holds */
  close(): void {
    for (const res of this.stalled) res.destroy();
  }
}
