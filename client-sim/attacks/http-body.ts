/**
 * Hostile HTTP body on a raw TCP socket, as an attacker sends it (no client library that would
 * stop at the first error): POST `path` with a `bytes`-long body, declared by Content-Length or
 * streamed chunked, in `chunkBytes` pieces `delayMs` apart (a slow body when delayMs > 0).
 *
 * Resolves once the server closed the connection, or after `timeoutMs` (then the socket is
 * destroyed and `closedByServer` is false). Never rejects: a reset is how a server may refuse.
 */
import { connect } from "node:net";

export interface BodyAttack {
  host: string;
  port: number;
  path: string;
  bytes: number;
  chunked: boolean;
  chunkBytes?: number;
  delayMs?: number;
  timeoutMs?: number;
}

export interface BodyAttackResult {
  /** the status line's code, null when no answer arrived */
  status: number | null;
  /** body bytes written before the server closed (or the attack ended) */
  sentBytes: number;
  closedByServer: boolean;
  elapsedMs: number;
}

export function sendBody(a: BodyAttack): Promise<BodyAttackResult> {
  const chunkBytes = a.chunkBytes ?? 16 * 1024;
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect(a.port, a.host);
    let answer = "";
    let sentBytes = 0;
    let closed = false;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, a.timeoutMs ?? 30_000);
    socket.on("data", (d) => {
      if (answer.length < 4096) answer += d.toString("latin1");
    });
    socket.on("error", () => {}); // EPIPE / ECONNRESET: the server cut us off, 'close' follows
    socket.on("close", () => {
      closed = true;
      clearTimeout(timer);
      const m = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      resolve({
        status: m ? Number(m[1]) : null,
        sentBytes,
        closedByServer: !timedOut,
        elapsedMs: performance.now() - started,
      });
    });
    socket.on("connect", async () => {
      const framing = a.chunked ? "Transfer-Encoding: chunked" : `Content-Length: ${a.bytes}`;
      socket.write(
        `POST ${a.path} HTTP/1.1\r\nHost: ${a.host}:${a.port}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`,
      );
      const piece = Buffer.alloc(chunkBytes, 0x20); // spaces: valid JSON whitespace
      while (sentBytes < a.bytes && !closed && !socket.destroyed) {
        const n = Math.min(chunkBytes, a.bytes - sentBytes);
        const body = n === chunkBytes ? piece : piece.subarray(0, n);
        const ok = a.chunked
          ? socket.write(`${n.toString(16)}\r\n`) && socket.write(body) && socket.write("\r\n")
          : socket.write(body);
        sentBytes += n;
        if (!ok)
          await new Promise<void>((r) => {
            socket.once("drain", r);
            socket.once("close", r);
          });
        if (a.delayMs) await new Promise((r) => setTimeout(r, a.delayMs));
      }
      if (a.chunked && !closed && !socket.destroyed) socket.write("0\r\n\r\n");
    });
  });
}
