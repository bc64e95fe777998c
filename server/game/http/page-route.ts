/**
 * Answers requests for the browser pages' files (play-assets.ts), ahead of Colyseus' router
 * (server.ts puts it there): brotli or gzip as
 * the client accepts, `Vary: Accept-Encoding`, a content ETag with `Cache-Control: no-cache`
 * (a reload revalidates and gets 304 without a body), HEAD without a body.
 *
 * A failed page build answers 500 to page requests (logged and counted once per failure); the
 * request is never left hanging.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { errorFields, type Logger } from "../../observability/log.ts";
import type { GameMetrics } from "../metrics.ts";
import { PLAY_ASSET_PATHS, playAssets, type PlayAsset } from "./play-assets.ts";

type Encoding = "br" | "gzip" | "identity";

/** The best encoding the client accepts; `q=0` refuses one. */
export function pickEncoding(acceptEncoding: string | undefined): Encoding {
  const accepted = new Set<string>();
  for (const part of (acceptEncoding ?? "").toLowerCase().split(",")) {
    const [name, ...params] = part.trim().split(";");
    const refused = params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p));
    if (name && !refused) accepted.add(name.trim());
  }
  if (accepted.has("br")) return "br";
  if (accepted.has("gzip")) return "gzip";
  return "identity";
}

function send(req: IncomingMessage, res: ServerResponse, file: PlayAsset): void {
  const headers: Record<string, string | number> = {
    "content-type": file.type,
    etag: file.etag,
    "cache-control": "no-cache",
    vary: "Accept-Encoding",
  };
  const match = req.headers["if-none-match"];
  if (match !== undefined && match.split(",").some((tag) => tag.trim().replace(/^W\//, "") === file.etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const encoding = pickEncoding(req.headers["accept-encoding"]);
  const body = encoding === "br" ? file.br : encoding === "gzip" ? file.gzip : file.identity;
  if (encoding !== "identity") headers["content-encoding"] = encoding;
  headers["content-length"] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}

/** Answers a request for a page file (true), or leaves it alone (false). */
export type PageResponder = (req: IncomingMessage, res: ServerResponse) => boolean;

export function pageResponder(log: Logger, metrics: GameMetrics): PageResponder {
  let reportedFailure: unknown;
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if ((req.method !== "GET" && req.method !== "HEAD") || !PLAY_ASSET_PATHS.has(path)) return false;
    playAssets().then(
      (assets) => send(req, res, assets.get(path)!),
      (err: unknown) => {
        if (reportedFailure !== err) {
          reportedFailure = err;
          metrics.errors.inc("page_build");
          log.error("page build failed", errorFields(err));
        }
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end("the page could not be built; see the server log\n");
      },
    );
    return true;
  };
}
