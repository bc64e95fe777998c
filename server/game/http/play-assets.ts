/**
 * The browser pages' files: the play page, the replay viewer, their stylesheet and their
 * scripts. The scripts are TypeScript under web/ bundled by esbuild (with the SDK and the
 * shared protocol) once per process, on the first request for any page file, never per request;
 * every file is then held in memory with its gzip and brotli forms and a content ETag.
 *
 * A failed build rejects every page request with 500 (and is logged by the caller); the rest of
 * the server is unaffected. Nothing here is cancellable: a build runs to its end.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";

export interface PlayAsset {
  type: string;
  identity: Buffer;
  gzip: Buffer;
  br: Buffer;
  /** strong validator: a hash of the uncompressed bytes */
  etag: string;
}

const PUBLIC_DIR = new URL("../../../web/", import.meta.url);

/** Pages and the stylesheet are served as they are on disk. */
const STATIC_FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/replay.html": { file: "replay.html", type: "text/html; charset=utf-8" },
  "/arena.css": { file: "arena.css", type: "text/css; charset=utf-8" },
};

/** Script entry points: `/<name>.js` and its `/<name>.js.map`. */
const ENTRIES = ["play", "replay"] as const;

/** Every path served by this module, whether or not its build has run yet. */
export const PLAY_ASSET_PATHS: ReadonlySet<string> = new Set([
  ...Object.keys(STATIC_FILES),
  ...ENTRIES.flatMap((e) => [`/${e}.js`, `/${e}.js.map`]),
]);

function asset(type: string, identity: Buffer): PlayAsset {
  return {
    type,
    identity,
    gzip: gzipSync(identity),
    // quality 5: within ~2 % of quality 9 on these files (play.js 55.0 vs 54.2 kB) at a
    // fraction of the CPU (24 vs 725 ms on a loaded 2-core machine)
    br: brotliCompressSync(identity, {
      params: { [zlib.BROTLI_PARAM_QUALITY]: 5, [zlib.BROTLI_PARAM_SIZE_HINT]: identity.length },
    }),
    etag: `"${createHash("sha256").update(identity).digest("base64url").slice(0, 22)}"`,
  };
}

async function build(): Promise<Map<string, PlayAsset>> {
  const esbuild = await import("esbuild");
  const result = await esbuild.build({
    entryPoints: Object.fromEntries(ENTRIES.map((e) => [e, fileURLToPath(new URL(`${e}.ts`, PUBLIC_DIR))])),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: "linked",
    outdir: "/",
    write: false,
    logLevel: "silent",
  });
  const assets = new Map<string, PlayAsset>();
  for (const out of result.outputFiles) {
    const path = "/" + out.path.split("/").pop();
    const type = path.endsWith(".map") ? "application/json; charset=utf-8" : "text/javascript; charset=utf-8";
    assets.set(path, asset(type, Buffer.from(out.contents)));
  }
  for (const [path, { file, type }] of Object.entries(STATIC_FILES)) {
    assets.set(path, asset(type, readFileSync(new URL(file, PUBLIC_DIR))));
  }
  for (const path of PLAY_ASSET_PATHS) if (!assets.has(path)) throw new Error(`page build produced no ${path}`);
  return assets;
}

let built: Promise<Map<string, PlayAsset>> | undefined;

/** The page files, built on the first call in this process; later calls share that build. */
export function playAssets(): Promise<Map<string, PlayAsset>> {
  built ??= build();
  return built;
}
