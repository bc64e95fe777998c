/**
 * `inOneWrite(clients, send)`: whatever `send` sends to these clients leaves as ONE socket write
 * per client, of a buffer framed once for every client that gets the same frames. A round goes
 * out as two Colyseus frames (the state patch, then the `round` message), the same two payloads
 * for every client of the room; sent through ws one by one they cost, per client, two frame
 * headers, a cork, a writev of four buffers and the stream machinery around it (about a quarter
 * of a busy server's main thread at 2 000 clients: bench/profiles.md). Framed once they cost a
 * plain write of one shared buffer: same frames on the wire, same order, one segment to read.
 *
 * Captures each client's `raw` sends while `send` runs (Colyseus' Client.raw: every state patch
 * and message goes through it), frames them as ws would, and writes them to the
 * ws socket (`ref._socket`, internal). A client this cannot serve that way (another transport, a
 * socket not open, ws holding queued frames of its own, a send with a callback) gets its frames
 * through ws as before, in the same order. `send` throwing still delivers what it sent.
 */
import type { Client } from "@colyseus/core";
import type { Socket } from "node:net";
import { WebSocket } from "ws";

/** ws's internals this reaches: the socket and the sender's queue (non-empty only while ws compresses or reads a Blob) */
interface WsInternals {
  readyState: number;
  _socket?: Socket | null;
  _sender?: { _queue: unknown[] };
}
type Raw = Client["raw"];

/**
 * A binary WebSocket frame as a server sends it (RFC 6455 5.2: FIN + opcode 2, unmasked, the
 * payload length in 7, 7+16 or 7+64 bits), what ws's Sender writes for Colyseus' sends.
 */
function frameHeader(length: number): Buffer {
  if (length < 126) return Buffer.from([0x82, length]);
  const header = Buffer.alloc(length < 65536 ? 4 : 10);
  header[0] = 0x82;
  header[1] = length < 65536 ? 126 : 127;
  if (length < 65536) header.writeUInt16BE(length, 2);
  else header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

function wsOf(client: Client): WsInternals | undefined {
  const ws = (client as unknown as { ref?: WsInternals }).ref;
  const ok =
    ws?.readyState === WebSocket.OPEN && ws._socket && !ws._socket.destroyed && ws._sender?._queue.length === 0;
  return ok ? ws : undefined;
}

/** One buffer of frames for `payloads`, shared with the previous client when it got the very same payloads. */
class FrameCache {
  private payloads: Uint8Array[] = [];
  private framed: Buffer | null = null;

  framesOf(payloads: Uint8Array[]): Buffer {
    const same =
      this.framed !== null &&
      payloads.length === this.payloads.length &&
      payloads.every((p, i) => p === this.payloads[i]);
    if (!same) {
      this.payloads = payloads;
      this.framed = Buffer.concat(payloads.flatMap((p) => [frameHeader(p.byteLength), p]));
    }
    return this.framed!;
  }
}

export function inOneWrite(clients: Iterable<Client>, send: () => void): void {
  const captured = new Map<Client, Uint8Array[]>();
  for (const client of clients) {
    if (wsOf(client) === undefined) continue;
    const payloads: Uint8Array[] = [];
    captured.set(client, payloads);
    const raw: Raw = client.raw;
    let passThrough = false;
    // an own property shadows the prototype's method until the sends are done
    client.raw = (data, options, cb) => {
      if (!passThrough && options === undefined && cb === undefined) return void payloads.push(data);
      // from here on through ws, after what was held back
      passThrough = true;
      for (const held of payloads.splice(0)) raw.call(client, held);
      raw.call(client, data, options, cb);
    };
  }
  try {
    send();
  } finally {
    const cache = new FrameCache();
    for (const [client, payloads] of captured) {
      delete (client as { raw?: Raw }).raw;
      if (payloads.length === 0) continue;
      const ws = wsOf(client);
      if (ws !== undefined) ws._socket!.write(cache.framesOf(payloads));
      else for (const data of payloads) client.raw(data);
    }
  }
}
